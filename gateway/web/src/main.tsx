// The dashboard's entry: session, language, data cache and one lazily loaded chunk per page.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode, lazy } from "react";
import { createRoot } from "react-dom/client";
import { useTranslation } from "react-i18next";
import { BrowserRouter, Route, Routes } from "react-router";
import { SessionProvider, useSession } from "./auth";
import Layout from "./components/Layout";
import "./i18n";
import Login from "./pages/Login";
import "./styles.css";

const Overview = lazy(() => import("./pages/Overview"));
const Communities = lazy(() => import("./pages/Communities"));
const Community = lazy(() => import("./pages/Community"));
const People = lazy(() => import("./pages/People"));
const Person = lazy(() => import("./pages/Person"));
const Reputation = lazy(() => import("./pages/Reputation"));
const Faq = lazy(() => import("./pages/Faq"));
const Collaboration = lazy(() => import("./pages/Collaboration"));
const Programs = lazy(() => import("./pages/Programs"));

const queries = new QueryClient({
  defaultOptions: {
    // A service that is down answers quickly with 502: one retry, then the page says so.
    // An open page asks again every 10 s while its tab is visible: what other systems write
    // shows without a reload (the overview asks every second; it answers 304 until it changed).
    queries: { retry: 1, staleTime: 15_000, refetchInterval: 10_000, refetchOnWindowFocus: true },
  },
});

function NotFound() {
  const { t } = useTranslation();
  return <p className="muted">{t("state.notFound")}</p>;
}

function App() {
  const { user } = useSession();
  if (!user) return <Login />;
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<Overview />} />
        <Route path="/communities" element={<Communities />} />
        <Route path="/communities/:id" element={<Community />} />
        <Route path="/people" element={<People />} />
        <Route path="/people/:id" element={<Person />} />
        <Route path="/reputation" element={<Reputation />} />
        <Route path="/faq" element={<Faq />} />
        <Route path="/collaboration" element={<Collaboration />} />
        <Route path="/programs" element={<Programs />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Layout>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <SessionProvider>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
