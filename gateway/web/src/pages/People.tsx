// Who knows what: experts on a topic with their reasons, the directory, and (CCO) new people.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, itemsOf, query, useApi, useDepartments } from "../api";
import type { Page } from "../api";
import { may, useUser } from "../auth";
import { ActionForm, Field, Loaded, Panel, pick, text, useFormat } from "../components/ui";
import type { Person } from "../contract";

type Expert = Record<string, unknown>;

/** An expert's reasons as sentences, whichever form the strategy service gives them in. */
export function reasonsOf(expert: Expert): string[] {
  const reasons = pick(expert, "reasons", "why");
  const describe = (value: unknown): string =>
    typeof value === "object" && value !== null
      ? Object.entries(value).map(([k, v]) => `${k.replaceAll("_", " ")}: ${Array.isArray(v) ? v.join(", ") : String(v)}`).join(", ")
      : String(value);
  if (Array.isArray(reasons)) return reasons.map(describe);
  if (reasons && typeof reasons === "object")
    return Object.entries(reasons).map(([k, v]) => `${k.replaceAll("_", " ")}: ${Array.isArray(v) ? v.join(", ") : typeof v === "object" && v !== null ? describe(v) : String(v)}`);
  return reasons ? [String(reasons)] : [];
}

function Experts() {
  const { t } = useTranslation();
  const format = useFormat();
  const departments = useDepartments();
  const [topic, setTopic] = useState("");
  const experts = useApi<Page<Expert> | { experts: Expert[] }>(
    topic ? `/api/strategy/v1/experts${query({ topic })}` : null,
  );
  const list = (data: unknown): Expert[] =>
    Array.isArray((data as { experts?: Expert[] })?.experts) ? (data as { experts: Expert[] }).experts : itemsOf(data as Page<Expert>);
  return (
    <Panel title={t("people.experts")} help={t("people.expertsHelp")}>
      <form
        className="inline-form"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setTopic(text(new FormData(event.currentTarget).get("topic")).toLowerCase());
        }}
      >
        <input name="topic" aria-label={t("people.topic")} placeholder={t("people.topic")} required />
        <button type="submit">{t("common.search")}</button>
      </form>
      {topic && (
        <Loaded query={experts} isEmpty={(data) => list(data).length === 0} empty={t("people.noExperts")}>
          {(data) => (
            <ol className="experts">
              {list(data).map((expert, n) => {
                const id = String(pick(expert, "person_id", "id") ?? "");
                return (
                  <li key={id || n} className="expert">
                    <div className="row-between">
                      <Link to={`/people/${id}`}>{String(pick(expert, "name", "email") ?? id)}</Link>
                      <span className="muted">
                        {departments.name(String(pick(expert, "department_id", "department") ?? ""))} · {t("common.score")} {format.number(pick(expert, "score"), 2)}
                      </span>
                    </div>
                    <ul className="reasons" aria-label={t("people.reasons")}>
                      {reasonsOf(expert).map((reason) => <li key={reason}>{reason}</li>)}
                    </ul>
                  </li>
                );
              })}
            </ol>
          )}
        </Loaded>
      )}
    </Panel>
  );
}

export default function People() {
  const { t } = useTranslation();
  const user = useUser();
  const cache = useQueryClient();
  const [filter, setFilter] = useState("");
  const path = `/api/people/v1/people${query({ q: filter, limit: 200 })}`;
  const people = useApi<Page<Person>>(path);
  const departments = useDepartments();

  return (
    <div className="page">
      <div className="page-title"><h1>{t("people.title")}</h1></div>
      <div className="grid">
        <Experts />
        <Panel title={t("people.directory")}>
          <input
            className="filter"
            aria-label={t("people.filter")}
            placeholder={t("people.filter")}
            onChange={(event) => setFilter(event.target.value.trim())}
          />
          <Loaded query={people} isEmpty={(page) => itemsOf(page).length === 0}>
            {(page) => (
              <table className="table" aria-label={t("people.directory")}>
                <tbody>
                  {itemsOf(page).map((person) => (
                    <tr key={person.id}>
                      <td><Link to={`/people/${person.id}`}>{person.name}</Link></td>
                      <td className="muted">{person.title}</td>
                      <td>{departments.name(person.department_id)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Loaded>
        </Panel>
      </div>
      {may.registerPeople(user) && (
        <Panel title={t("people.add")}>
          <ActionForm
            title={t("people.add")}
            submitLabel={t("common.add")}
            onSubmit={async (form) => {
              await api("/api/people/v1/people", {
                method: "POST",
                body: {
                  name: text(form.get("name")),
                  email: text(form.get("email")),
                  department_id: text(form.get("department_id")),
                  title: text(form.get("title")) || undefined,
                },
              });
              await cache.invalidateQueries();
            }}
          >
            <Field label={t("common.name")}><input name="name" required maxLength={120} /></Field>
            <Field label={t("people.email")}><input name="email" type="email" required /></Field>
            <Field label={t("common.department")}>
              <select name="department_id" required>
                {departments.list.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
              </select>
            </Field>
            <Field label={t("people.jobTitle")}><input name="title" maxLength={120} /></Field>
          </ActionForm>
        </Panel>
      )}
    </div>
  );
}
