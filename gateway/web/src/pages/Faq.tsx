// The customers' FAQ: how much it answers by itself, its entries, and a box to try it.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, itemsOf, useApi, useDepartments } from "../api";
import type { Page } from "../api";
import { may, useUser } from "../auth";
import { ActionForm, Field, Figure, Loaded, Panel, reasonOf, tagsOf, text, useFormat } from "../components/ui";
import type { FaqEntry, Overview } from "../contract";

type AskAnswer = {
  answered: boolean;
  ask_id: string;
  matches: { id: string; question: string; answer: string; score: number }[];
};

function TryTheFaq() {
  const { t, i18n } = useTranslation();
  const [answer, setAnswer] = useState<AskAnswer | null>(null);
  const [note, setNote] = useState<string | null>(null);
  return (
    <Panel title={t("faq.tryIt")}>
      <form
        className="inline-form"
        onSubmit={async (event) => {
          event.preventDefault();
          const question = text(new FormData(event.currentTarget).get("question"));
          setNote(null);
          try {
            setAnswer(await api<AskAnswer>("/api/listening/v1/faq/ask", { method: "POST", body: { question, lang: i18n.language }, anonymous: true }));
          } catch (failure) {
            setAnswer(null);
            setNote(reasonOf(failure));
          }
        }}
      >
        <input name="question" aria-label={t("faq.question")} placeholder={t("faq.question")} required maxLength={500} />
        <button type="submit">{t("faq.ask")}</button>
      </form>
      {answer && (
        <div className="ask-answer" role="status">
          {answer.answered && answer.matches[0] ? (
            <>
              <strong>{answer.matches[0].question}</strong>
              <p>{answer.matches[0].answer}</p>
            </>
          ) : (
            <p className="muted">{t("faq.notAnswered")}</p>
          )}
          <div className="form-actions">
            {[true, false].map((helpful) => (
              <button
                key={String(helpful)}
                type="button"
                className="secondary"
                onClick={async () => {
                  try {
                    await api(`/api/listening/v1/faq/asks/${answer.ask_id}/feedback`, { method: "POST", body: { helpful }, anonymous: true });
                    setNote(t("faq.thanks"));
                  } catch (failure) {
                    setNote(reasonOf(failure));
                  }
                }}
              >
                {helpful ? t("faq.helpful") : t("faq.notHelpful")}
              </button>
            ))}
          </div>
        </div>
      )}
      {note && <p className="muted" role="status">{note}</p>}
    </Panel>
  );
}

export default function Faq() {
  const { t } = useTranslation();
  const format = useFormat();
  const user = useUser();
  const cache = useQueryClient();
  const overview = useApi<Overview>("/api/strategy/v1/overview");
  const entries = useApi<Page<FaqEntry>>("/api/listening/v1/faq?limit=200");
  const departments = useDepartments();
  const faq = overview.data?.faq;

  return (
    <div className="page">
      <div className="page-title"><h1>{t("faq.title")}</h1></div>
      <div className="figures">
        <Figure label={t("faq.asked")} value={format.number(faq?.asked)} />
        <Figure label={t("faq.deflected")} value={format.number(faq?.deflected)} />
        <Figure label={t("faq.rate")} value={format.percent(faq?.deflection_rate)} />
      </div>
      <div className="grid">
        <Panel title={t("faq.entries")} wide>
          <Loaded query={entries} isEmpty={(page) => itemsOf(page).length === 0}>
            {(page) => (
              <div className="faq-entries">
                {itemsOf(page).map((entry) => (
                  <details key={entry.id} className="faq-entry">
                    <summary>
                      {entry.question} <span className="muted">{entry.lang?.toUpperCase()} · {departments.name(entry.department_id)}</span>
                    </summary>
                    <p>{entry.answer}</p>
                    <div className="tags">{(entry.tags ?? []).map((tag) => <span key={tag} className="tag">{tag}</span>)}</div>
                  </details>
                ))}
              </div>
            )}
          </Loaded>
        </Panel>
        <TryTheFaq />
        {may.manageFaq(user) && (
          <Panel title={t("faq.new")}>
            <ActionForm
              title={t("faq.new")}
              submitLabel={t("common.create")}
              onSubmit={async (form) => {
                await api("/api/listening/v1/faq", {
                  method: "POST",
                  body: {
                    question: text(form.get("question")),
                    answer: text(form.get("answer")),
                    lang: text(form.get("lang")),
                    department_id: text(form.get("department_id")),
                    tags: tagsOf(form.get("tags")),
                  },
                });
                await cache.invalidateQueries({ queryKey: ["/api/listening/v1/faq?limit=200"] });
              }}
            >
              <Field label={t("faq.question")}><input name="question" required /></Field>
              <Field label={t("faq.answer")}><textarea name="answer" rows={3} required /></Field>
              <Field label={t("faq.language")}>
                <select name="lang"><option value="fr">FR</option><option value="en">EN</option></select>
              </Field>
              <Field label={t("common.department")}>
                <select name="department_id">{departments.list.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}</select>
              </Field>
              <Field label={t("common.tags")}><input name="tags" /></Field>
            </ActionForm>
          </Panel>
        )}
      </div>
    </div>
  );
}
