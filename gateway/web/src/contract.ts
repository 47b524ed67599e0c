// The shapes CONTRACT.md gives the services' answers; every field may still be missing.
export type DepartmentSummary = {
  id: string;
  name: string;
  headcount?: number;
  cross_silo_ratio?: number | null;
  interactions_in?: number;
  interactions_out?: number;
};

export type Matrix = { departments: string[]; cells: number[][] };

export type CommunityHealth = {
  community_id?: string;
  id?: string;
  name?: string;
  members?: number;
  active_members?: number;
  cross_department_share?: number;
  questions?: number;
  answer_rate?: number;
  median_first_answer_hours?: number;
  median_time_to_first_answer_seconds?: number;
  score?: number;
};

export type Kpi = {
  metric: string;
  target: number;
  deadline: string;
  current?: number | null;
  progress?: number | null;
};

export type Program = {
  id?: string;
  name: string;
  objective: string;
  owner_id: string;
  budget?: number | null;
  kpis: Kpi[];
};

export type StaffingRisk = {
  kind: "no_manager" | "junior_managers" | "manager_left" | (string & {});
  community_id?: string;
  community_name?: string;
  owner_department_id?: string;
  /** The same risk in English, for a kind the dashboard does not know. */
  detail?: string;
  managers?: {
    person_id?: string;
    name?: string;
    department_id?: string;
    community_experience_years?: number;
    active?: boolean;
  }[];
};

export type Overview = {
  as_of: string;
  cross_silo_ratio?: number | null;
  departments: DepartmentSummary[];
  matrix?: Matrix;
  communities?: CommunityHealth[];
  reputation?: Record<string, unknown>;
  faq?: { asked?: number; deflected?: number; deflection_rate?: number | null };
  staffing_risks?: StaffingRisk[];
  programs?: Program[];
};

export type Alert = {
  id: string;
  department_id?: string;
  raised_at?: string;
  created_at?: string;
  window_start?: string;
  window_end?: string;
  acknowledged_at?: string | null;
  acked_at?: string | null;
  status?: string;
  explanation?: {
    window?: unknown;
    baseline?: unknown;
    top_terms?: unknown[];
    sample_mention_ids?: string[];
    [other: string]: unknown;
  };
  [other: string]: unknown;
};

/** The open alerts: the listening service filters by status, 200 is its largest page. */
export const OPEN_ALERTS = "/api/listening/v1/alerts?status=open&order=desc&limit=200";

/** When an alert was raised (`created_at` in older answers). */
export function raisedAt(alert: Alert): string | undefined {
  return alert.raised_at ?? alert.created_at;
}

export function isOpen(alert: Alert): boolean {
  if (alert.status) return alert.status === "open";
  return !alert.acknowledged_at && !alert.acked_at;
}

export type Community = {
  id: string;
  name: string;
  kind: "internal" | "external";
  purpose: string;
  owner_department_id: string;
  description?: string | null;
  topics?: string[];
  archived?: boolean;
  archived_at?: string | null;
};

export type Person = {
  id: string;
  name: string;
  email: string;
  department_id: string;
  title?: string | null;
  community_experience_years?: number;
  languages?: string[];
  active?: boolean;
  skills?: { skill: string; level: number }[];
  roles?: { role: string; scope: string | null }[];
};

export type Department = { id: string; name: string };

export type Mention = {
  id: string;
  channel?: string;
  author?: string | null;
  text: string;
  url?: string | null;
  lang?: string;
  published_at?: string;
  department_id?: string | null;
  sentiment?: { score?: number; label?: string; source?: string; model_label?: string };
};

export type ReputationBucket = {
  start: string;
  mentions: number;
  sentiment_avg: number | null;
  negative_share: number | null;
};

export type FaqEntry = {
  id: string;
  question: string;
  answer: string;
  lang?: string;
  department_id?: string;
  tags?: string[];
};

export type Question = {
  id: string;
  title: string;
  body?: string;
  tags?: string[];
  status?: string;
  author_id?: string;
  asked_at?: string;
  created_at?: string;
  answers?: unknown[];
  answer_count?: number;
};

export type Practice = {
  id: string;
  title: string;
  body?: string;
  tags?: string[];
  department_id?: string | null;
  adoptions?: unknown[];
  adoption_count?: number;
};

export type Idea = {
  id: string;
  title: string;
  body?: string;
  status?: string;
  votes?: number;
  vote_count?: number;
};

/** A program's progress: the mean of its KPIs' progress, when they have one. */
export function programProgress(program: Program): number | null {
  const values = (program.kpis ?? [])
    .map((kpi) => kpi.progress)
    .filter((value): value is number => typeof value === "number");
  return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null;
}
