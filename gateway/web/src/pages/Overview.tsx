// The CCO's morning view: cross-silo ratio and its trend, who helps whom, risks, alerts, programs.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, itemsOf, query, useApi } from "../api";
import type { Page } from "../api";
import { useUser } from "../auth";
import Chart from "../components/Chart";
import type { ChartOption } from "../components/Chart";
import { Figure, Loaded, Panel, Progress, pick, useFormat } from "../components/ui";
import type { Alert, Matrix, Overview as OverviewShape, StaffingRisk } from "../contract";
import { isOpen, programProgress } from "../contract";

const WEEKS = 8;
const WEEK_MS = 7 * 24 * 3600 * 1000;

function crossSiloRatio(matrix: Matrix): number | null {
  let total = 0;
  let across = 0;
  matrix.cells.forEach((row, i) =>
    row.forEach((count, j) => {
      total += count;
      if (i !== j) across += count;
    }),
  );
  return total > 0 ? across / total : null;
}

/** The ratio week by week, from the matrix of each week (the overview gives only today's). */
function useTrend() {
  return useQuery({
    queryKey: ["cross-silo-trend"],
    queryFn: async () => {
      const now = Date.now();
      const weeks = Array.from({ length: WEEKS }, (_, n) => {
        const to = new Date(now - (WEEKS - 1 - n) * WEEK_MS);
        return { from: new Date(to.getTime() - WEEK_MS), to };
      });
      const matrices = await Promise.all(
        weeks.map(({ from, to }) =>
          api<Matrix>(
            `/api/strategy/v1/matrix${query({ from: from.toISOString(), to: to.toISOString() })}`,
          ),
        ),
      );
      return weeks.map(({ to }, n) => ({ week: to.toISOString(), ratio: crossSiloRatio(matrices[n]) }));
    },
    retry: false,
    staleTime: 60_000,
  });
}

function riskText(risk: StaffingRisk): string {
  const what = pick(risk, "community_name", "name", "community_id") ?? "";
  const why = pick(risk, "reason", "detail", "description", "kind", "type") ?? "";
  return [what, why].filter(Boolean).map(String).join(" — ");
}

export default function Overview() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  // A department lead reads the department-scoped view; the CCO sees everything.
  const scoped = user.has("department_lead") && !user.roles.includes("cco") && user.department;
  const overview = useApi<OverviewShape>(
    `/api/strategy/v1/overview${scoped ? query({ department_id: user.department }) : ""}`,
    30_000,
  );
  const alerts = useApi<Page<Alert>>("/api/listening/v1/alerts?limit=50", 60_000);
  const trend = useTrend();
  const openAlerts = itemsOf(alerts.data).filter(isOpen);
  const data = overview.data;
  const names = useMemo(
    () => Object.fromEntries((data?.departments ?? []).map((d) => [d.id, d.name])),
    [data],
  );

  const heatmap = useMemo<ChartOption | null>(() => {
    const matrix = data?.matrix;
    if (!matrix || !matrix.departments?.length) return null;
    const labels = matrix.departments.map((id) => names[id] ?? id);
    const cells = matrix.cells.flatMap((row, i) => row.map((count, j) => [j, i, count]));
    const highest = Math.max(1, ...cells.map((cell) => cell[2]));
    return {
      tooltip: {
        formatter: (p: { value: number[] }) =>
          `${labels[p.value[0]]} → ${labels[p.value[1]]}: ${p.value[2]}`,
      },
      grid: { left: 130, right: 20, top: 10, bottom: 90 },
      xAxis: { type: "category", data: labels, axisLabel: { rotate: 40 }, splitArea: { show: true } },
      yAxis: { type: "category", data: labels, splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: highest,
        calculable: true,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        inRange: { color: ["#f7fbff", "#6baed6", "#08306b"] },
      },
      series: [{ type: "heatmap", data: cells, label: { show: true } }],
    };
  }, [data, names]);

  const trendChart = useMemo<ChartOption | null>(() => {
    const points = trend.data?.filter((point) => point.ratio !== null) ?? [];
    if (!points.length) return null;
    return {
      tooltip: { trigger: "axis", valueFormatter: (v: number) => format.percent(v) },
      grid: { left: 50, right: 20, top: 20, bottom: 30 },
      xAxis: { type: "category", data: points.map((p) => format.date(p.week)) },
      yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: (v: number) => format.percent(v) } },
      series: [{ type: "line", smooth: true, areaStyle: { opacity: 0.15 }, data: points.map((p) => p.ratio) }],
    };
  }, [trend.data, format]);

  const headcount = (data?.departments ?? []).reduce((sum, d) => sum + (d.headcount ?? 0), 0);

  return (
    <div className="page">
      <div className="page-title">
        <h1>{t("overview.title")}</h1>
        {scoped && <span className="badge">{t("overview.scoped", { department: user.department })}</span>}
        {data && <span className="muted">{t("overview.asOf", { date: format.dateTime(data.as_of) })}</span>}
      </div>

      <div className="figures" aria-label={t("overview.title")}>
        <Figure label={t("overview.crossSilo")} value={format.percent(data?.cross_silo_ratio)} hint={t("overview.crossSiloHelp")} />
        <Figure label={t("overview.headcount")} value={data ? format.number(headcount) : "—"} />
        <Figure label={t("overview.deflection")} value={format.percent(data?.faq?.deflection_rate)} />
        <Figure label={t("overview.openAlerts")} value={alerts.isSuccess ? openAlerts.length : "—"} />
      </div>

      <div className="grid">
        <Panel title={t("overview.trend")} help={t("overview.crossSiloHelp")}>
          {trendChart ? (
            <Chart option={trendChart} label={t("overview.trend")} height={240} />
          ) : (
            <p className="muted empty">{trend.isPending ? t("state.loading") : t("overview.trendEmpty")}</p>
          )}
        </Panel>

        <Panel title={t("overview.matrix")} help={t("overview.matrixHelp")}>
          <Loaded query={overview} isEmpty={() => heatmap === null} empty={t("overview.matrixEmpty")}>
            {() => heatmap && <Chart option={heatmap} label={t("overview.matrix")} height={380} />}
          </Loaded>
        </Panel>

        <Panel title={t("overview.departments")} wide>
          <Loaded query={overview} isEmpty={(o) => !o.departments?.length}>
            {(o) => (
              <table className="table" aria-label={t("overview.departments")}>
                <thead>
                  <tr>
                    <th>{t("common.department")}</th>
                    <th className="number">{t("overview.headcount")}</th>
                    <th className="number">{t("overview.crossSilo")}</th>
                    <th className="number">{t("overview.interactionsIn")}</th>
                    <th className="number">{t("overview.interactionsOut")}</th>
                  </tr>
                </thead>
                <tbody>
                  {o.departments.map((d) => (
                    <tr key={d.id} data-department={d.id}>
                      <td>{d.name}</td>
                      <td className="number headcount">{format.number(d.headcount)}</td>
                      <td className="number">{format.percent(d.cross_silo_ratio)}</td>
                      <td className="number">{format.number(d.interactions_in)}</td>
                      <td className="number">{format.number(d.interactions_out)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Loaded>
        </Panel>

        <Panel title={t("overview.staffing")}>
          <Loaded query={overview} isEmpty={(o) => !o.staffing_risks?.length} empty={t("overview.staffingEmpty")}>
            {(o) => (
              <ul className="list">
                {(o.staffing_risks ?? []).map((risk, n) => (
                  <li key={n} className="risk">{riskText(risk)}</li>
                ))}
              </ul>
            )}
          </Loaded>
        </Panel>

        <Panel title={t("overview.openAlerts")} actions={<Link to="/reputation">{t("nav.reputation")} →</Link>}>
          <Loaded query={alerts} isEmpty={() => openAlerts.length === 0} empty={t("overview.alertsEmpty")}>
            {() => (
              <ul className="list">
                {openAlerts.slice(0, 5).map((alert) => (
                  <li key={alert.id}>
                    <strong>{names[alert.department_id ?? ""] ?? alert.department_id ?? "—"}</strong>{" "}
                    <span className="muted">{format.dateTime(alert.created_at)}</span>
                  </li>
                ))}
              </ul>
            )}
          </Loaded>
        </Panel>

        <Panel title={t("overview.programs")} actions={<Link to="/programs">{t("nav.programs")} →</Link>}>
          <Loaded query={overview} isEmpty={(o) => !o.programs?.length} empty={t("overview.programsEmpty")}>
            {(o) => (
              <ul className="list">
                {(o.programs ?? []).map((program, n) => (
                  <li key={program.id ?? n}>
                    <div className="row-between">
                      <span>{program.name}</span>
                      <span className="muted">{format.percent(programProgress(program))}</span>
                    </div>
                    <Progress value={programProgress(program)} label={program.name} />
                  </li>
                ))}
              </ul>
            )}
          </Loaded>
        </Panel>
      </div>
    </div>
  );
}
