// The CCO's morning view: cross-silo ratio and its trend, who helps whom, risks, alerts, programs.
import { useQuery } from "@tanstack/react-query";
import type { TFunction } from "i18next";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, countOf, itemsOf, query, useApi, useDepartments } from "../api";
import type { Page } from "../api";
import { useUser } from "../auth";
import Chart from "../components/Chart";
import type { ChartOption } from "../components/Chart";
import { Figure, Loaded, Panel, Progress, useFormat } from "../components/ui";
import type { Alert, Matrix, Overview as OverviewShape, StaffingRisk } from "../contract";
import { OPEN_ALERTS, programProgress, raisedAt } from "../contract";

const WEEKS = 8;
const WEEK_MS = 7 * 24 * 3600 * 1000;
// Pixels for a department's name on the matrix's axes.
const LABEL_WIDTH = 110;

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
    refetchInterval: 60_000, // eight matrices, for weeks that change little
  });
}

// The strategy service writes who left and when only in a manager_left risk's English `detail`.
const LEFT_ON = /^(.+) left the company on (\d{4}-\d{2}-\d{2})\.$/;
const STILL_LISTED = /^(.+) left the company and still manages it\.$/;

/** A staffing risk as a sentence in the reader's language; `detail` (English) for an unknown kind. */
function riskText(
  risk: StaffingRisk,
  t: TFunction,
  format: ReturnType<typeof useFormat>,
  department: (id: string | undefined) => string,
): string {
  const community = risk.community_name ?? risk.community_id ?? "—";
  const values = { community, department: department(risk.owner_department_id) };
  const managers = risk.managers ?? [];
  const names = (list: typeof managers) => list.map((m) => m.name ?? m.person_id).filter(Boolean).join(", ");
  switch (risk.kind) {
    case "no_manager":
      return t("overview.risks.no_manager", values);
    case "junior_managers": {
      const current = managers.filter((m) => m.active !== false);
      if (!current.length) break;
      const years = Math.max(...current.map((m) => m.community_experience_years ?? 0));
      return t("overview.risks.junior_managers", {
        ...values,
        managers: names(current),
        years: format.number(years, 1),
        count: years,
      });
    }
    case "manager_left": {
      const left = LEFT_ON.exec(risk.detail ?? "");
      if (left) return t("overview.risks.manager_left", { ...values, name: left[1], date: format.date(left[2]) });
      const listed = STILL_LISTED.exec(risk.detail ?? "")?.[1] ?? names(managers.filter((m) => m.active === false));
      if (listed) return t("overview.risks.manager_still_listed", { ...values, name: listed });
      break;
    }
  }
  return [community, risk.detail].filter(Boolean).join(" — ");
}

export default function Overview() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  // A department lead reads the department-scoped view; the CCO sees everything.
  const scoped = user.has("department_lead") && !user.roles.includes("cco") && user.department;
  // Asked every second: the view is never more than a second old, and the service answers
  // 304 (the browser keeps the last answer) until an event or a program changed it.
  const overview = useApi<OverviewShape>(
    `/api/strategy/v1/overview${scoped ? query({ department_id: user.department }) : ""}`,
    1_000,
  );
  const alerts = useApi<Page<Alert>>(OPEN_ALERTS, 60_000);
  const trend = useTrend();
  const openAlerts = itemsOf(alerts.data);
  const data = overview.data;
  const departments = useDepartments();
  // The overview names its departments too: still names when the people service is down.
  const name = useMemo(() => {
    const names = new Map((data?.departments ?? []).map((d) => [d.id, d.name]));
    return (id: string | null | undefined) => names.get(id ?? "") ?? departments.name(id);
  }, [data, departments.name]);

  const heatmap = useMemo<ChartOption | null>(() => {
    const matrix = data?.matrix;
    if (!matrix || !matrix.departments?.length) return null;
    const labels = matrix.departments.map(name);
    const cells = matrix.cells.flatMap((row, i) => row.map((count, j) => [j, i, count]));
    const highest = Math.max(1, ...cells.map((cell) => cell[2]));
    // Long names are cut to LABEL_WIDTH (the tooltip gives them whole); every label is shown,
    // the x-axis ones slanted, and the grid leaves them room above the colour scale.
    const axisLabel = { width: LABEL_WIDTH, overflow: "truncate", ellipsis: "…", interval: 0 };
    return {
      tooltip: {
        formatter: (p: { value: number[] }) =>
          `${labels[p.value[0]]} → ${labels[p.value[1]]}: ${p.value[2]}`,
      },
      grid: { left: LABEL_WIDTH + 16, right: 16, top: 10, bottom: LABEL_WIDTH + 50 },
      xAxis: { type: "category", data: labels, axisLabel: { ...axisLabel, rotate: 45 }, splitArea: { show: true } },
      yAxis: { type: "category", data: labels, axisLabel, splitArea: { show: true } },
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
  }, [data, name]);

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
        {scoped && <span className="badge">{t("overview.scoped", { department: name(user.department) })}</span>}
        {data && <span className="muted">{t("overview.asOf", { date: format.dateTime(data.as_of) })}</span>}
      </div>

      <div className="figures" aria-label={t("overview.title")}>
        <Figure label={t("overview.crossSilo")} value={format.percent(data?.cross_silo_ratio)} hint={t("overview.crossSiloHelp")} />
        <Figure label={t("overview.headcount")} value={data ? format.number(headcount) : "—"} />
        <Figure label={t("overview.deflection")} value={format.percent(data?.faq?.deflection_rate)} />
        <Figure label={t("overview.openAlerts")} value={alerts.isSuccess ? countOf(alerts.data) : "—"} />
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
                  <li key={n} className="risk" data-kind={risk.kind}>{riskText(risk, t, format, name)}</li>
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
                    <strong>{name(alert.department_id)}</strong>{" "}
                    <span className="muted">{format.dateTime(raisedAt(alert))}</span>
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
