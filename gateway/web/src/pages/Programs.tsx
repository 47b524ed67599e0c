// Programs meant to open the silos: their KPIs and progress, and (CCO) new ones.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, itemsOf, useApi, useDepartments } from "../api";
import type { Page } from "../api";
import { may, useUser } from "../auth";
import { ActionForm, Field, Loaded, Panel, Progress, text, useFormat } from "../components/ui";
import type { Program } from "../contract";
import { programProgress } from "../contract";

const PROGRAMS = "/api/strategy/v1/programs?limit=200";
const METRICS = ["cross_silo_ratio", "cross_silo_ratio:", "help:", "community_health:", "faq_deflection_rate", "sentiment_avg"];

/** A KPI's metric in words, its departments by name ("help:rd->after-sales": R&D → SAV). */
function useMetricLabel() {
  const { t } = useTranslation();
  const departments = useDepartments();
  return (metric: string) => {
    const colon = metric.indexOf(":");
    if (colon < 0) return t(`programs.metrics.${metric}`, { defaultValue: metric });
    const kind = metric.slice(0, colon + 1);
    const parameter = metric.slice(colon + 1);
    const shown =
      kind === "help:" ? parameter.split("->").map(departments.name).join(" → ")
      : kind === "cross_silo_ratio:" ? departments.name(parameter)
      : parameter;
    return t("programs.metricWith", { metric: t(`programs.metrics.${kind}`, { defaultValue: kind }), parameter: shown });
  };
}

export default function Programs() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const cache = useQueryClient();
  const programs = useApi<Page<Program>>(PROGRAMS);
  const metricLabel = useMetricLabel();
  const [kpis, setKpis] = useState(1);

  return (
    <div className="page">
      <div className="page-title"><h1>{t("programs.title")}</h1></div>
      <div className="grid">
        <Panel title={t("programs.title")} wide>
          <Loaded query={programs} isEmpty={(page) => itemsOf(page).length === 0} empty={t("overview.programsEmpty")}>
            {(page) => (
              <div className="cards">
                {itemsOf(page).map((program, n) => (
                  <article key={program.id ?? n} className="program" aria-label={program.name}>
                    <div className="row-between">
                      <h3>{program.name}</h3>
                      <span className="muted">{format.percent(programProgress(program))}</span>
                    </div>
                    <p>{program.objective}</p>
                    {typeof program.budget === "number" && <p className="muted">{t("programs.budget")}: {format.number(program.budget)}</p>}
                    <table className="table">
                      <thead>
                        <tr>
                          <th>{t("programs.metric")}</th>
                          <th className="number">{t("programs.current")}</th>
                          <th className="number">{t("programs.target")}</th>
                          <th>{t("programs.deadline")}</th>
                          <th>{t("programs.progress")}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {(program.kpis ?? []).map((kpi) => (
                          <tr key={kpi.metric}>
                            <td>{metricLabel(kpi.metric)}</td>
                            <td className="number">{format.number(kpi.current, 2)}</td>
                            <td className="number">{format.number(kpi.target, 2)}</td>
                            <td>{format.date(kpi.deadline)}</td>
                            <td><Progress value={kpi.progress} label={kpi.metric} /></td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </article>
                ))}
              </div>
            )}
          </Loaded>
        </Panel>
        {may.managePrograms(user) && (
          <Panel title={t("programs.new")}>
            <ActionForm
              title={t("programs.new")}
              submitLabel={t("common.create")}
              onSubmit={async (form) => {
                const budget = text(form.get("budget"));
                await api("/api/strategy/v1/programs", {
                  method: "POST",
                  body: {
                    name: text(form.get("name")),
                    objective: text(form.get("objective")),
                    owner_id: user.id,
                    budget: budget ? Number(budget) : undefined,
                    kpis: Array.from({ length: kpis }, (_, n) => ({
                      metric: text(form.get(`metric-${n}`)) + text(form.get(`parameter-${n}`)),
                      target: Number(text(form.get(`target-${n}`))),
                      deadline: text(form.get(`deadline-${n}`)),
                    })),
                  },
                });
                setKpis(1);
                await cache.invalidateQueries();
              }}
            >
              <Field label={t("common.name")}><input name="name" required maxLength={120} /></Field>
              <Field label={t("programs.objective")}><textarea name="objective" rows={2} required /></Field>
              <Field label={t("programs.budget")}><input name="budget" type="number" min={0} step="any" /></Field>
              <fieldset className="kpis">
                <legend>{t("programs.kpis")}</legend>
                {Array.from({ length: kpis }, (_, n) => (
                  <div key={n} className="kpi-row">
                    <select name={`metric-${n}`} aria-label={t("programs.metric")}>
                      {METRICS.map((metric) => <option key={metric} value={metric}>{t(`programs.metrics.${metric}`)}</option>)}
                    </select>
                    <input name={`parameter-${n}`} aria-label={t("programs.metricParameter")} placeholder={t("programs.metricParameter")} />
                    <input name={`target-${n}`} aria-label={t("programs.target")} placeholder={t("programs.target")} type="number" step="any" required />
                    <input name={`deadline-${n}`} aria-label={t("programs.deadline")} type="date" required />
                  </div>
                ))}
                <button type="button" className="secondary" onClick={() => setKpis(kpis + 1)}>{t("programs.addKpi")}</button>
              </fieldset>
            </ActionForm>
          </Panel>
        )}
      </div>
    </div>
  );
}
