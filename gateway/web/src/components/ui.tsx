// Small building blocks every page uses: panels, figures, states, progress, forms.
import type { UseQueryResult } from "@tanstack/react-query";
import type { FormEvent, ReactNode } from "react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../api";

export function Panel({
  title,
  help,
  actions,
  children,
  wide,
}: {
  title: string;
  help?: string;
  actions?: ReactNode;
  children: ReactNode;
  wide?: boolean;
}) {
  return (
    <section className={wide ? "panel wide" : "panel"} aria-label={title}>
      <header className="panel-header">
        <div>
          <h2>{title}</h2>
          {help && <p className="help">{help}</p>}
        </div>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function Figure({ label, value, hint }: { label: string; value: ReactNode; hint?: string }) {
  return (
    <div className="figure" title={hint}>
      <span className="figure-value">{value}</span>
      <span className="figure-label">{label}</span>
    </div>
  );
}

export function reasonOf(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.problem.errors?.map((e) => `${e.field}: ${e.message}`).join("; ");
    return [error.problem.detail ?? error.problem.title ?? `HTTP ${error.status}`, fields]
      .filter(Boolean)
      .join(" — ");
  }
  return error instanceof Error ? error.message : String(error);
}

/** What a query shows: loading, unavailable (a service down), empty, or its content. */
export function Loaded<T>({
  query,
  children,
  isEmpty,
  empty,
}: {
  query: UseQueryResult<T, ApiError>;
  children: (data: T) => ReactNode;
  isEmpty?: (data: T) => boolean;
  empty?: string;
}) {
  const { t } = useTranslation();
  if (query.isPending) return <p className="muted">{t("state.loading")}</p>;
  if (query.isError) {
    // A service down or not built yet is the usual cause: say so in the reader's language.
    const down = query.error instanceof ApiError && [502, 503, 504].includes(query.error.status);
    return (
      <p className="muted unavailable" role="status">
        {t("state.unavailable", { reason: down ? t("state.serviceDown") : reasonOf(query.error) })}
      </p>
    );
  }
  if (isEmpty?.(query.data)) return <p className="muted empty">{empty ?? t("state.empty")}</p>;
  return <>{children(query.data)}</>;
}

export function Progress({ value, label }: { value: number | null | undefined; label?: string }) {
  const share = typeof value === "number" && Number.isFinite(value) ? value : 0;
  const percent = Math.max(0, Math.min(1, share)) * 100;
  return (
    <div
      className="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(percent)}
      aria-label={label}
    >
      <div className="progress-bar" style={{ width: `${percent}%` }} />
    </div>
  );
}

export function useFormat() {
  const { i18n } = useTranslation();
  const locale = i18n.language === "fr" ? "fr-FR" : "en-GB";
  return {
    percent: (value: unknown) =>
      typeof value === "number" && Number.isFinite(value)
        ? new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 }).format(
            value,
          )
        : "—",
    number: (value: unknown, digits = 0) =>
      typeof value === "number" && Number.isFinite(value)
        ? new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value)
        : "—",
    date: (value: unknown) => {
      if (typeof value !== "string") return "—";
      const date = new Date(value);
      // A calendar date ("2027-06-30") is midnight UTC: shown in UTC, it stays that day.
      const timeZone = DATE_ONLY.test(value) ? "UTC" : undefined;
      return Number.isNaN(date.getTime())
        ? value
        : new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone }).format(date);
    },
    dateTime: (value: unknown) => {
      if (typeof value !== "string") return "—";
      const date = new Date(value);
      return Number.isNaN(date.getTime())
        ? value
        : new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "short" }).format(date);
    },
    /** From one time to another, the shared parts written once ("12/05/2026 14:00 – 15:00"). */
    range: (start: unknown, end: unknown) => {
      const from = typeof start === "string" ? new Date(start) : null;
      const to = typeof end === "string" ? new Date(end) : null;
      if (!from || !to || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from > to)
        return "—";
      return new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "short" }).formatRange(from, to);
    },
  };
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** An RFC 3339 time as the services write it ("2026-05-12T14:00:00+00:00"). */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A form that sends once, says what the service answered, and resets on success. */
export function ActionForm({
  title,
  submitLabel,
  onSubmit,
  children,
}: {
  title: string;
  submitLabel: string;
  onSubmit: (form: FormData) => Promise<unknown>;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy(true);
    setOutcome(null);
    try {
      await onSubmit(new FormData(form));
      form.reset();
      setOutcome({ ok: true, text: t("state.saved") });
    } catch (error) {
      setOutcome({ ok: false, text: t("state.failed", { reason: reasonOf(error) }) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="action-form" onSubmit={submit} aria-label={title}>
      <h3>{title}</h3>
      {children}
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
        {outcome && (
          <span role="status" className={outcome.ok ? "ok" : "error"}>
            {outcome.text}
          </span>
        )}
      </div>
    </form>
  );
}

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="field">
      <span>{label}</span>
      {children}
    </label>
  );
}

export function tagsOf(value: FormDataEntryValue | null): string[] {
  return String(value ?? "")
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
}

export function text(value: FormDataEntryValue | null): string {
  return String(value ?? "").trim();
}

/** A value of an answer whose exact shape may still change: the first field that is present. */
export function pick(record: unknown, ...names: string[]): unknown {
  if (!record || typeof record !== "object") return undefined;
  for (const name of names) {
    const value = (record as Record<string, unknown>)[name];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}
