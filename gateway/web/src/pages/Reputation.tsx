// What the outside world says: sentiment and volume over time, explained alerts, mentions.
import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, countOf, itemsOf, query, useApi, useDepartments } from "../api";
import type { Page } from "../api";
import { may, useUser } from "../auth";
import Chart from "../components/Chart";
import type { ChartOption } from "../components/Chart";
import { Loaded, Panel, TIMESTAMP, pick, reasonOf, useFormat } from "../components/ui";
import type { Alert, Mention, ReputationBucket } from "../contract";
import { OPEN_ALERTS, isOpen, raisedAt } from "../contract";

const LABELS = ["negative", "neutral", "positive"] as const;
const DAY_MS = 24 * 3600 * 1000;
const ALERTS = "/api/listening/v1/alerts";

/** A value of an alert's explanation as text, its times in the reader's locale. */
function describe(value: unknown, format: ReturnType<typeof useFormat>): string {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.map((v) => describe(v, format)).join(", ");
  if (typeof value === "object") {
    const start = pick(value, "start");
    const end = pick(value, "end");
    const range = start && end ? [format.range(start, end)] : [];
    const rest = Object.entries(value).filter(([k]) => !range.length || (k !== "start" && k !== "end"));
    return [...range, ...rest.map(([k, v]) => `${k.replaceAll("_", " ")}: ${describe(v, format)}`)].join(" · ");
  }
  if (typeof value === "string" && TIMESTAMP.test(value)) return format.dateTime(value);
  if (typeof value === "number") return format.number(value, 2);
  return String(value);
}

function AlertCard({ alert, canAct }: { alert: Alert; canAct: boolean }) {
  const { t } = useTranslation();
  const format = useFormat();
  const departments = useDepartments();
  const cache = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const explanation = alert.explanation ?? {};
  const terms = explanation.top_terms ?? [];
  const baseline = explanation.baseline;
  return (
    <article className={isOpen(alert) ? "alert open" : "alert"} aria-label={t("reputation.alerts")}>
      <div className="row-between">
        <strong>{departments.name(alert.department_id)}</strong>
        <span className="muted">{format.dateTime(raisedAt(alert))}</span>
      </div>
      <details open={isOpen(alert)}>
        <summary>{t("reputation.explanation")}</summary>
        <dl className="explanation">
          <dt>{t("reputation.window")}</dt>
          <dd>{describe(explanation.window ?? { start: alert.window_start, end: alert.window_end }, format)}</dd>
          <dt>{t("reputation.baseline")}</dt>
          <dd>
            {pick(baseline, "start") && pick(baseline, "end")
              ? [
                  format.range(pick(baseline, "start"), pick(baseline, "end")),
                  t("reputation.baselineFigures", {
                    negative: format.number(pick(baseline, "negative_mentions")),
                    perHour: format.number(pick(baseline, "per_hour"), 2),
                  }),
                ].join(" · ")
              : describe(baseline, format)}
          </dd>
          <dt>{t("reputation.topTerms")}</dt>
          <dd className="tags">{terms.map((term) => <span key={describe(term, format)} className="tag">{describe(term, format)}</span>)}</dd>
          <dt>{t("reputation.samples")}</dt>
          <dd>{(explanation.sample_mention_ids ?? []).length}</dd>
        </dl>
      </details>
      {isOpen(alert) && canAct ? (
        <button
          type="button"
          onClick={async () => {
            try {
              await api(`/api/listening/v1/alerts/${alert.id}/ack`, { method: "POST" });
              // Every list of alerts (this page's, the open ones the overview counts).
              await cache.invalidateQueries({ predicate: (q) => String(q.queryKey[0]).startsWith(ALERTS) });
            } catch (failure) {
              setError(reasonOf(failure));
            }
          }}
        >
          {t("reputation.acknowledge")}
        </button>
      ) : (
        !isOpen(alert) && <span className="badge">{t("reputation.acknowledged")}</span>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </article>
  );
}

function MentionRow({ mention, canCorrect }: { mention: Mention; canCorrect: boolean }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [label, setLabel] = useState(mention.sentiment?.label ?? "neutral");
  const [error, setError] = useState<string | null>(null);
  return (
    <tr>
      <td className="muted">{format.dateTime(mention.published_at)}</td>
      <td>{mention.channel}</td>
      <td className="mention-text">{mention.url ? <a href={mention.url} rel="noreferrer noopener" target="_blank">{mention.text}</a> : mention.text}</td>
      <td>
        {canCorrect ? (
          <select
            aria-label={t("reputation.correct")}
            value={label}
            onChange={async (event) => {
              const next = event.target.value;
              const previous = label;
              setLabel(next);
              setError(null);
              try {
                await api(`/api/listening/v1/mentions/${mention.id}`, { method: "PATCH", body: { sentiment_label: next } });
              } catch (failure) {
                setLabel(previous);
                setError(reasonOf(failure));
              }
            }}
          >
            {LABELS.map((l) => <option key={l} value={l}>{t(`reputation.labels.${l}`)}</option>)}
          </select>
        ) : (
          <span className={`sentiment ${label}`}>{t(`reputation.labels.${label}`, { defaultValue: label })}</span>
        )}
        {mention.sentiment?.source === "human" && <span className="muted"> ({t("reputation.corrected")})</span>}
        {error && <div className="error" role="alert">{error}</div>}
      </td>
    </tr>
  );
}

export default function Reputation() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const [sentiment, setSentiment] = useState("");
  const range = useMemo(() => {
    const to = new Date();
    return { from: new Date(to.getTime() - 30 * DAY_MS).toISOString(), to: to.toISOString() };
  }, []);
  const reputation = useApi<{ buckets: ReputationBucket[] }>(`/api/listening/v1/reputation${query({ ...range, bucket: "day" })}`);
  const alerts = useApi<Page<Alert>>(`${ALERTS}?order=desc&limit=50`);
  const openAlerts = useApi<Page<Alert>>(OPEN_ALERTS);
  const mentions = useApi<Page<Mention>>(`/api/listening/v1/mentions${query({ sentiment, order: "desc", limit: 50 })}`);
  const moderator = may.moderateReputation(user);

  const chart = useMemo<ChartOption | null>(() => {
    const buckets = reputation.data?.buckets ?? [];
    if (!buckets.length) return null;
    return {
      tooltip: { trigger: "axis" },
      // The legend below the dates, not over them.
      legend: { data: [t("reputation.volume"), t("reputation.sentiment"), t("reputation.negativeShare")], bottom: 0 },
      grid: { left: 50, right: 50, top: 40, bottom: 60 },
      xAxis: { type: "category", data: buckets.map((b) => format.date(b.start)) },
      yAxis: [
        { type: "value", name: t("reputation.volume") },
        { type: "value", min: -1, max: 1, name: t("reputation.sentiment") },
      ],
      series: [
        { name: t("reputation.volume"), type: "bar", data: buckets.map((b) => b.mentions), itemStyle: { color: "#bdd7ee" } },
        { name: t("reputation.sentiment"), type: "line", yAxisIndex: 1, smooth: true, data: buckets.map((b) => b.sentiment_avg), itemStyle: { color: "#2e75b6" } },
        { name: t("reputation.negativeShare"), type: "line", yAxisIndex: 1, smooth: true, data: buckets.map((b) => b.negative_share), itemStyle: { color: "#c00000" } },
      ],
    };
  }, [reputation.data, t, format]);

  return (
    <div className="page">
      <div className="page-title"><h1>{t("reputation.title")}</h1></div>
      <div className="grid">
        <Panel title={t("reputation.overTime")} wide>
          <Loaded query={reputation} isEmpty={() => chart === null}>
            {() => chart && <Chart option={chart} label={t("reputation.overTime")} height={300} />}
          </Loaded>
        </Panel>
        <Panel
          title={t("reputation.alerts")}
          wide
          actions={
            openAlerts.isSuccess && (
              <span className={itemsOf(openAlerts.data).length ? "badge warn" : "badge"} role="status">
                {t("reputation.openCount", { open: countOf(openAlerts.data) })}
              </span>
            )
          }
        >
          <Loaded query={alerts} isEmpty={(page) => itemsOf(page).length === 0}>
            {(page) => (
              <div className="cards">
                {itemsOf(page).map((alert) => <AlertCard key={alert.id} alert={alert} canAct={moderator} />)}
              </div>
            )}
          </Loaded>
        </Panel>
        <Panel
          title={t("reputation.mentions")}
          wide
          actions={
            <select aria-label={t("reputation.label")} value={sentiment} onChange={(e) => setSentiment(e.target.value)}>
              <option value="">{t("reputation.label")}: {t("common.all")}</option>
              {LABELS.map((l) => <option key={l} value={l}>{t(`reputation.labels.${l}`)}</option>)}
            </select>
          }
        >
          <Loaded query={mentions} isEmpty={(page) => itemsOf(page).length === 0}>
            {(page) => (
              <table className="table" aria-label={t("reputation.mentions")}>
                <thead>
                  <tr>
                    <th>{t("common.date")}</th>
                    <th>{t("reputation.channel")}</th>
                    <th>{t("reputation.mentions")}</th>
                    <th>{t("reputation.label")}</th>
                  </tr>
                </thead>
                <tbody>
                  {itemsOf(page).map((mention) => <MentionRow key={mention.id} mention={mention} canCorrect={moderator} />)}
                </tbody>
              </table>
            )}
          </Loaded>
        </Panel>
      </div>
    </div>
  );
}
