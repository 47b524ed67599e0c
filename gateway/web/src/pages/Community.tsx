// One community: what it is, its health in figures, its members and its questions.
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { itemsOf, query, useApi } from "../api";
import type { Page } from "../api";
import { Figure, Loaded, Panel, pick, useFormat } from "../components/ui";
import type { Community as CommunityShape, CommunityHealth, Question } from "../contract";
import { healthById } from "./Communities";

export default function Community() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const format = useFormat();
  const community = useApi<CommunityShape>(`/api/communities/v1/communities/${encodeURIComponent(id)}`);
  const members = useApi<Page<Record<string, unknown>>>(`/api/communities/v1/communities/${encodeURIComponent(id)}/members?limit=200`);
  const health = useApi<Page<CommunityHealth> | CommunityHealth[]>("/api/strategy/v1/communities/health");
  const questions = useApi<Page<Question>>(`/api/collaboration/v1/questions${query({ community_id: id, order: "desc", limit: 50 })}`);
  const score = healthById(itemsOf(health.data))[id];
  const firstAnswerHours =
    score?.median_first_answer_hours ??
    (typeof score?.median_time_to_first_answer_seconds === "number" ? score.median_time_to_first_answer_seconds / 3600 : undefined);

  return (
    <div className="page">
      <p><Link to="/communities">← {t("communities.title")}</Link></p>
      <Loaded query={community}>
        {(c) => (
          <>
            <div className="page-title">
              <h1>{c.name}</h1>
              <span className="badge">{t(`communities.kinds.${c.kind}`, { defaultValue: c.kind })}</span>
              <span className="badge">{t(`communities.purposes.${c.purpose}`, { defaultValue: c.purpose })}</span>
              {(c.archived || c.archived_at) && <span className="badge warn">{t("communities.archived")}</span>}
            </div>
            {c.description && <p>{c.description}</p>}
            <div className="tags">{(c.topics ?? []).map((topic) => <span key={topic} className="tag">{topic}</span>)}</div>
          </>
        )}
      </Loaded>
      <div className="figures">
        <Figure label={t("communities.health")} value={format.number(score?.score)} />
        <Figure label={t("common.members")} value={format.number(score?.members)} />
        <Figure label={t("communities.active")} value={format.number(score?.active_members)} />
        <Figure label={t("communities.crossDepartment")} value={format.percent(score?.cross_department_share)} />
        <Figure label={t("communities.answerRate")} value={format.percent(score?.answer_rate)} />
        <Figure label={t("communities.firstAnswer")} value={firstAnswerHours === undefined ? "—" : `${format.number(firstAnswerHours, 1)} h`} />
      </div>
      <div className="grid">
        <Panel title={t("communities.memberList")}>
          <Loaded query={members} isEmpty={(page) => itemsOf(page).length === 0}>
            {(page) => (
              <ul className="list">
                {itemsOf(page).map((member, n) => {
                  const personId = pick(member, "person_id");
                  const label = String(pick(member, "name", "external_handle", "person_id") ?? "—");
                  return <li key={String(pick(member, "id") ?? n)}>{personId ? <Link to={`/people/${String(personId)}`}>{label}</Link> : label}</li>;
                })}
              </ul>
            )}
          </Loaded>
        </Panel>
        <Panel title={t("communities.communityQuestions")}>
          <Loaded query={questions} isEmpty={(page) => itemsOf(page).length === 0}>
            {(page) => (
              <ul className="list">
                {itemsOf(page).map((question) => (
                  <li key={question.id}>{question.title} <span className="muted">{question.status}</span></li>
                ))}
              </ul>
            )}
          </Loaded>
        </Panel>
      </div>
    </div>
  );
}
