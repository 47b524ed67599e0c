// Sign-in with the built-in issuer (local runs and the demo).
import { useState } from "react";
import type { FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useSession } from "../auth";
import { LanguageSwitch } from "../components/Layout";
import { reasonOf } from "../components/ui";

export default function Login() {
  const { t } = useTranslation();
  const { signIn } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(form.get("email")), String(form.get("password")));
    } catch (failure) {
      setError(t("session.failed", { reason: reasonOf(failure) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login">
      <form onSubmit={submit} className="login-card" aria-label={t("session.title")}>
        <div className="brand">
          <img src="/favicon.svg" alt="" width={36} height={36} />
          <span>{t("app.name")}</span>
        </div>
        <p className="muted">{t("app.tagline")}</p>
        <h1>{t("session.title")}</h1>
        <label className="field">
          <span>{t("session.email")}</span>
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label className="field">
          <span>{t("session.password")}</span>
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? t("session.signingIn") : t("session.submit")}
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <p className="muted hint">{t("session.hint")}</p>
        <LanguageSwitch />
      </form>
    </div>
  );
}
