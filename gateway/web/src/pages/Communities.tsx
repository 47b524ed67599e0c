// The registry of communities with their health scores, filters, and (for managers) a new one.
import { useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { api, itemsOf, query, useApi, useDepartments } from "../api";
import type { Page } from "../api";
import { may, useUser } from "../auth";
import { ActionForm, Field, Loaded, Panel, Progress, tagsOf, text, useFormat } from "../components/ui";
import type { Community, CommunityHealth } from "../contract";

export const KINDS = ["internal", "external"] as const;
export const PURPOSES = ["practice", "innovation", "support", "reputation", "recruitment", "brand", "other"] as const;

export function healthById(health: CommunityHealth[] | undefined): Record<string, CommunityHealth> {
  return Object.fromEntries((health ?? []).map((h) => [String(h.community_id ?? h.id), h]));
}

export default function Communities() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const cache = useQueryClient();
  const [filters, setFilters] = useSearchParams();
  const filter = {
    kind: filters.get("kind"),
    purpose: filters.get("purpose"),
    department_id: filters.get("department_id"),
    topic: filters.get("topic"),
  };
  const path = `/api/communities/v1/communities${query({ ...filter, limit: 200 })}`;
  const communities = useApi<Page<Community>>(path);
  const health = useApi<Page<CommunityHealth> | CommunityHealth[]>("/api/strategy/v1/communities/health");
  const departments = useDepartments();
  const scores = useMemo(() => healthById(itemsOf(health.data)), [health.data]);

  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(filters);
    if (value) next.set(name, value);
    else next.delete(name);
    setFilters(next);
  }

  return (
    <div className="page">
      <div className="page-title">
        <h1>{t("communities.title")}</h1>
      </div>
      <div className="filters" role="search">
        <select aria-label={t("communities.kind")} value={filter.kind ?? ""} onChange={(e) => setFilter("kind", e.target.value)}>
          <option value="">{t("communities.kind")}: {t("common.all")}</option>
          {KINDS.map((kind) => (
            <option key={kind} value={kind}>{t(`communities.kinds.${kind}`)}</option>
          ))}
        </select>
        <select aria-label={t("communities.purpose")} value={filter.purpose ?? ""} onChange={(e) => setFilter("purpose", e.target.value)}>
          <option value="">{t("communities.purpose")}: {t("common.all")}</option>
          {PURPOSES.map((purpose) => (
            <option key={purpose} value={purpose}>{t(`communities.purposes.${purpose}`)}</option>
          ))}
        </select>
        <select aria-label={t("common.department")} value={filter.department_id ?? ""} onChange={(e) => setFilter("department_id", e.target.value)}>
          <option value="">{t("common.department")}: {t("common.all")}</option>
          {departments.list.map((d) => (
            <option key={d.id} value={d.id}>{d.name}</option>
          ))}
        </select>
        <input
          aria-label={t("communities.topic")}
          placeholder={t("communities.topic")}
          defaultValue={filter.topic ?? ""}
          onKeyDown={(e) => e.key === "Enter" && setFilter("topic", e.currentTarget.value.trim())}
        />
      </div>

      <Panel title={t("communities.title")} wide>
        <Loaded query={communities} isEmpty={(page) => itemsOf(page).length === 0}>
          {(page) => (
            <table className="table" aria-label={t("communities.title")}>
              <thead>
                <tr>
                  <th>{t("common.name")}</th>
                  <th>{t("communities.kind")}</th>
                  <th>{t("communities.purpose")}</th>
                  <th>{t("communities.owner")}</th>
                  <th className="number">{t("common.members")}</th>
                  <th>{t("communities.health")}</th>
                </tr>
              </thead>
              <tbody>
                {itemsOf(page).map((community) => {
                  const score = scores[community.id]?.score;
                  return (
                    <tr key={community.id}>
                      <td>
                        <Link to={`/communities/${community.id}`}>{community.name}</Link>
                        <div className="tags">{(community.topics ?? []).map((topic) => <span key={topic} className="tag">{topic}</span>)}</div>
                      </td>
                      <td>{t(`communities.kinds.${community.kind}`, { defaultValue: community.kind })}</td>
                      <td>{t(`communities.purposes.${community.purpose}`, { defaultValue: community.purpose })}</td>
                      <td>{departments.name(community.owner_department_id)}</td>
                      <td className="number">{format.number(scores[community.id]?.members)}</td>
                      <td>
                        {typeof score === "number" ? (
                          <div className="health">
                            <Progress value={score / 100} label={t("communities.health")} />
                            <span>{format.number(score)}</span>
                          </div>
                        ) : (
                          "—"
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Loaded>
      </Panel>

      {may.manageCommunities(user) && (
        <Panel title={t("communities.new")}>
          <ActionForm
            title={t("communities.new")}
            submitLabel={t("common.create")}
            onSubmit={async (form) => {
              await api("/api/communities/v1/communities", {
                method: "POST",
                body: {
                  name: text(form.get("name")),
                  kind: text(form.get("kind")),
                  purpose: text(form.get("purpose")),
                  owner_department_id: text(form.get("owner_department_id")),
                  description: text(form.get("description")) || undefined,
                  topics: tagsOf(form.get("topics")),
                },
              });
              await cache.invalidateQueries({ queryKey: [path] });
            }}
          >
            <Field label={t("common.name")}><input name="name" required maxLength={120} /></Field>
            <Field label={t("communities.kind")}>
              <select name="kind">{KINDS.map((kind) => <option key={kind} value={kind}>{t(`communities.kinds.${kind}`)}</option>)}</select>
            </Field>
            <Field label={t("communities.purpose")}>
              <select name="purpose">{PURPOSES.map((p) => <option key={p} value={p}>{t(`communities.purposes.${p}`)}</option>)}</select>
            </Field>
            <Field label={t("communities.owner")}>
              <select name="owner_department_id" required>
                {departments.list.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
              </select>
            </Field>
            <Field label={t("communities.description")}><textarea name="description" rows={2} /></Field>
            <Field label={t("communities.topics")}><input name="topics" /></Field>
          </ActionForm>
        </Panel>
      )}
    </div>
  );
}
