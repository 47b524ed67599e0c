// Inside the company: questions and answers, best practices and their adoptions, ideas by stage.
import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, itemsOf, useApi, useDepartments } from "../api";
import type { Page } from "../api";
import { may, useUser } from "../auth";
import Chart from "../components/Chart";
import type { ChartOption } from "../components/Chart";
import { ActionForm, Field, Loaded, Panel, reasonOf, tagsOf, text, useFormat } from "../components/ui";
import type { Idea, Practice, Question } from "../contract";

const STAGES = ["submitted", "reviewing", "accepted", "implemented", "rejected"] as const;
const QUESTIONS = "/api/collaboration/v1/questions?order=desc&limit=50";
const PRACTICES = "/api/collaboration/v1/practices?order=desc&limit=50";
const IDEAS = "/api/collaboration/v1/ideas?order=desc&limit=200";

function askedAt(question: Question): string | undefined {
  return question.asked_at ?? question.created_at;
}

function count(list: unknown[] | undefined, fallback: number | undefined): number {
  return Array.isArray(list) ? list.length : (fallback ?? 0);
}

function Questions() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const cache = useQueryClient();
  const questions = useApi<Page<Question>>(QUESTIONS);
  return (
    <>
      <Panel title={t("collaboration.questions")} wide>
        <Loaded query={questions} isEmpty={(page) => itemsOf(page).length === 0}>
          {(page) => (
            <table className="table" aria-label={t("collaboration.questions")}>
              <tbody>
                {itemsOf(page).map((question) => (
                  <tr key={question.id}>
                    <td>
                      <strong>{question.title}</strong>
                      <div className="tags">{(question.tags ?? []).map((tag) => <span key={tag} className="tag">{tag}</span>)}</div>
                    </td>
                    <td>{question.status === "answered" ? t("collaboration.answered") : t("collaboration.open")}</td>
                    <td className="number">{count(question.answers, question.answer_count)} {t("collaboration.answers").toLowerCase()}</td>
                    <td className="muted">{format.date(askedAt(question))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Loaded>
      </Panel>
      {may.contribute(user) && (
        <Panel title={t("collaboration.ask")}>
          <ActionForm
            title={t("collaboration.ask")}
            submitLabel={t("collaboration.ask")}
            onSubmit={async (form) => {
              await api("/api/collaboration/v1/questions", {
                method: "POST",
                body: { title: text(form.get("title")), body: text(form.get("body")), tags: tagsOf(form.get("tags")) },
              });
              await cache.invalidateQueries({ queryKey: [QUESTIONS] });
            }}
          >
            <Field label={t("common.title")}><input name="title" required maxLength={200} /></Field>
            <Field label={t("common.body")}><textarea name="body" rows={3} required /></Field>
            <Field label={t("common.tags")}><input name="tags" /></Field>
          </ActionForm>
        </Panel>
      )}
    </>
  );
}

function Practices() {
  const { t } = useTranslation();
  const user = useUser();
  const cache = useQueryClient();
  const practices = useApi<Page<Practice>>(PRACTICES);
  const departments = useDepartments();
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <Panel title={t("collaboration.practices")} wide>
        <Loaded query={practices} isEmpty={(page) => itemsOf(page).length === 0}>
          {(page) => (
            <ul className="list">
              {itemsOf(page).map((practice) => (
                <li key={practice.id} className="row-between">
                  <span>
                    <strong>{practice.title}</strong> <span className="muted">{practice.department_id && departments.name(practice.department_id)}</span>
                  </span>
                  <span>
                    {count(practice.adoptions, practice.adoption_count)} {t("collaboration.adoptions").toLowerCase()}{" "}
                    {may.contribute(user) && user.department && (
                      <button
                        type="button"
                        className="secondary"
                        onClick={async () => {
                          setError(null);
                          try {
                            await api(`/api/collaboration/v1/practices/${practice.id}/adoptions`, { method: "POST", body: { department_id: user.department } });
                            await cache.invalidateQueries({ queryKey: [PRACTICES] });
                          } catch (failure) {
                            setError(reasonOf(failure));
                          }
                        }}
                      >
                        {t("collaboration.adopt")}
                      </button>
                    )}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Loaded>
        {error && <p className="error" role="alert">{error}</p>}
      </Panel>
      {may.contribute(user) && (
        <Panel title={t("collaboration.share")}>
          <ActionForm
            title={t("collaboration.share")}
            submitLabel={t("common.create")}
            onSubmit={async (form) => {
              await api("/api/collaboration/v1/practices", {
                method: "POST",
                body: { title: text(form.get("title")), body: text(form.get("body")), tags: tagsOf(form.get("tags")), department_id: user.department ?? undefined },
              });
              await cache.invalidateQueries({ queryKey: [PRACTICES] });
            }}
          >
            <Field label={t("common.title")}><input name="title" required /></Field>
            <Field label={t("common.body")}><textarea name="body" rows={3} required /></Field>
            <Field label={t("common.tags")}><input name="tags" /></Field>
          </ActionForm>
        </Panel>
      )}
    </>
  );
}

function Ideas() {
  const { t } = useTranslation();
  const user = useUser();
  const cache = useQueryClient();
  const ideas = useApi<Page<Idea>>(IDEAS);
  const byStage = useMemo(() => {
    const groups: Record<string, Idea[]> = Object.fromEntries(STAGES.map((stage) => [stage, []]));
    for (const idea of itemsOf(ideas.data)) (groups[idea.status ?? "submitted"] ??= []).push(idea);
    return groups;
  }, [ideas.data]);
  const chart = useMemo<ChartOption>(
    () => ({
      grid: { left: 40, right: 20, top: 10, bottom: 30 },
      tooltip: {},
      xAxis: { type: "category", data: STAGES.map((stage) => t(`collaboration.stages.${stage}`)) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: STAGES.map((stage) => byStage[stage].length), itemStyle: { color: "#548235" } }],
    }),
    [byStage, t],
  );
  return (
    <>
      <Panel title={t("collaboration.byStage")} wide>
        <Loaded query={ideas} isEmpty={(page) => itemsOf(page).length === 0}>
          {() => (
            <>
              <Chart option={chart} label={t("collaboration.byStage")} height={200} />
              <div className="stages">
                {STAGES.map((stage) => (
                  <div key={stage} className="stage">
                    <h3>{t(`collaboration.stages.${stage}`)}</h3>
                    {byStage[stage].map((idea) => (
                      <div key={idea.id} className="idea">
                        {idea.title} <span className="muted">▲ {idea.votes ?? idea.vote_count ?? 0}</span>
                      </div>
                    ))}
                  </div>
                ))}
              </div>
            </>
          )}
        </Loaded>
      </Panel>
      {may.contribute(user) && (
        <Panel title={t("collaboration.propose")}>
          <ActionForm
            title={t("collaboration.propose")}
            submitLabel={t("common.create")}
            onSubmit={async (form) => {
              await api("/api/collaboration/v1/ideas", {
                method: "POST",
                body: { title: text(form.get("title")), body: text(form.get("body")), tags: tagsOf(form.get("tags")) },
              });
              await cache.invalidateQueries({ queryKey: [IDEAS] });
            }}
          >
            <Field label={t("common.title")}><input name="title" required /></Field>
            <Field label={t("common.body")}><textarea name="body" rows={3} required /></Field>
            <Field label={t("common.tags")}><input name="tags" /></Field>
          </ActionForm>
        </Panel>
      )}
    </>
  );
}

const TABS = { questions: Questions, practices: Practices, ideas: Ideas } as const;

export default function Collaboration() {
  const { t } = useTranslation();
  const [tab, setTab] = useState<keyof typeof TABS>("questions");
  const Tab = TABS[tab];
  return (
    <div className="page">
      <div className="page-title"><h1>{t("collaboration.title")}</h1></div>
      <div className="tabs" role="tablist">
        {(Object.keys(TABS) as (keyof typeof TABS)[]).map((name) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} className={tab === name ? "active" : ""} onClick={() => setTab(name)}>
            {t(`collaboration.${name}`)}
          </button>
        ))}
      </div>
      <div className="grid">
        <Tab />
      </div>
    </div>
  );
}
