// The frame around every page: navigation, the person signed in, the language switch.
import { Suspense } from "react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { NavLink } from "react-router";
import { useSession, useUser } from "../auth";
import { LANGUAGES } from "../i18n";

const PAGES = [
  ["/", "nav.overview"],
  ["/communities", "nav.communities"],
  ["/people", "nav.people"],
  ["/reputation", "nav.reputation"],
  ["/faq", "nav.faq"],
  ["/collaboration", "nav.collaboration"],
  ["/programs", "nav.programs"],
] as const;

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <div className="language-switch" role="group" aria-label={t("session.language")}>
      {LANGUAGES.map((language) => (
        <button
          key={language}
          type="button"
          className={i18n.language === language ? "active" : ""}
          aria-pressed={i18n.language === language}
          onClick={() => void i18n.changeLanguage(language)}
        >
          {language.toUpperCase()}
        </button>
      ))}
    </div>
  );
}

export default function Layout({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { signOut } = useSession();
  const user = useUser();
  const mainRole = ["cco", "community_manager", "conversation_manager", "department_lead"].find(
    (role) => user.roles.includes(role),
  );
  return (
    <div className="layout">
      <aside className="sidebar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>{t("app.name")}</span>
        </div>
        <nav aria-label="Agora">
          {PAGES.map(([path, label]) => (
            <NavLink key={path} to={path} end={path === "/"}>
              {t(label)}
            </NavLink>
          ))}
          <a href="/api/docs">{t("nav.api")}</a>
        </nav>
      </aside>
      <div className="content">
        <header className="topbar">
          <span className="tagline">{t("app.tagline")}</span>
          <div className="who">
            <span className="email">{user.email}</span>
            <span className="role">{t(`roles.${mainRole ?? "employee"}`)}</span>
            <LanguageSwitch />
            <button type="button" className="link" onClick={signOut}>
              {t("session.signOut")}
            </button>
          </div>
        </header>
        <main>
          <Suspense fallback={<p className="muted">{t("state.loading")}</p>}>{children}</Suspense>
        </main>
      </div>
    </div>
  );
}
