// One person: where they work, their skills as a chart, their roles and languages.
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { useApi, useDepartments } from "../api";
import Chart from "../components/Chart";
import type { ChartOption } from "../components/Chart";
import { Figure, Loaded, Panel, useFormat } from "../components/ui";
import type { Person as PersonShape } from "../contract";

export default function Person() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const format = useFormat();
  const departments = useDepartments();
  const person = useApi<PersonShape>(`/api/people/v1/people/${encodeURIComponent(id)}`);
  const skills = useMemo<ChartOption | null>(() => {
    const list = [...(person.data?.skills ?? [])].sort((a, b) => a.level - b.level);
    if (!list.length) return null;
    return {
      grid: { left: 140, right: 20, top: 10, bottom: 30 },
      tooltip: {},
      xAxis: { type: "value", min: 0, max: 5, interval: 1 },
      yAxis: { type: "category", data: list.map((s) => s.skill) },
      series: [{ type: "bar", data: list.map((s) => s.level), itemStyle: { color: "#2e75b6" } }],
    };
  }, [person.data]);

  return (
    <div className="page">
      <p><Link to="/people">← {t("people.title")}</Link></p>
      <Loaded query={person}>
        {(p) => (
          <>
            <div className="page-title">
              <h1>{p.name}</h1>
              {p.active === false && <span className="badge warn">{t("people.inactive")}</span>}
            </div>
            <p className="muted">{[p.title, p.department_id && departments.name(p.department_id), p.email].filter(Boolean).join(" · ")}</p>
            <div className="figures">
              <Figure label={t("people.experience")} value={format.number(p.community_experience_years, 1)} />
              <Figure label={t("people.languages")} value={(p.languages ?? []).join(", ").toUpperCase() || "—"} />
            </div>
            <div className="grid">
              <Panel title={t("people.skills")}>
                {skills ? <Chart option={skills} label={t("people.skills")} height={Math.max(160, 36 * (p.skills?.length ?? 0))} /> : <p className="muted empty">{t("state.empty")}</p>}
              </Panel>
              <Panel title={t("people.roles")}>
                <ul className="list">
                  {["employee", ...(p.roles ?? []).map((r) => r.role)].filter((r, i, all) => all.indexOf(r) === i).map((role) => (
                    <li key={role}>{t(`roles.${role}`, { defaultValue: role })}</li>
                  ))}
                </ul>
              </Panel>
            </div>
          </>
        )}
      </Loaded>
    </div>
  );
}
