// Calls to the platform through the gateway, with the signed-in person's token.
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { Department } from "./contract";

const TOKEN_KEY = "agora.token";
export const SIGNED_OUT = "agora:signed-out";

export type Page<T> = { items: T[]; next_cursor: string | null };

export type Problem = {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { field: string; message: string }[];
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function api<T>(
  path: string,
  options: { method?: string; body?: unknown; anonymous?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = storedToken();
  if (token && !options.anonymous) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401 && token && !options.anonymous) {
    storeToken(null);
    window.dispatchEvent(new Event(SIGNED_OUT));
  }
  if (!response.ok) {
    let problem: Problem = { status: response.status };
    try {
      problem = await response.json();
    } catch {
      // Not every failure has a body (a proxy in between, a reset connection).
    }
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A GET through the gateway, cached and shared by every component that asks for it. */
export function useApi<T>(path: string | null, refetchInterval?: number) {
  return useQuery<T, ApiError>({
    queryKey: [path],
    queryFn: () => api<T>(path as string),
    enabled: path !== null,
    // Given only when asked: an `undefined` here would replace the client's default interval.
    ...(refetchInterval === undefined ? {} : { refetchInterval }),
  });
}

/** The items of a list answer, whatever arrived (a service down gives none). */
export function itemsOf<T>(page: Page<T> | T[] | undefined | null): T[] {
  if (!page) return [];
  if (Array.isArray(page)) return page;
  return Array.isArray(page.items) ? page.items : [];
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The number of items of a page, with a "+" when more pages follow. */
export function countOf<T>(page: Page<T> | undefined | null): string {
  const count = itemsOf(page).length;
  return page?.next_cursor ? `${count}+` : String(count);
}

/** Every item of a paged list, following `next_cursor` (up to `maxPages` pages). */
export async function allItems<T>(
  path: string,
  params: Record<string, string | number | undefined | null> = {},
  maxPages = 25,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < maxPages; n++) {
    const page: Page<T> = await api<Page<T>>(`${path}${query({ ...params, cursor })}`);
    items.push(...itemsOf(page));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** The matrix's pseudo-department: customers whose FAQ question was escalated. */
export const EXTERNAL = "external";

/** Every department (all pages of the list), and a department's name for its id. */
export function useDepartments() {
  const { t } = useTranslation();
  const departments = useQuery<Department[], ApiError>({
    queryKey: ["departments"],
    queryFn: () => allItems<Department>("/api/people/v1/departments", { limit: 200 }),
    staleTime: 5 * 60_000,
  });
  const names = useMemo(
    () => new Map((departments.data ?? []).map((d) => [d.id, d.name])),
    [departments.data],
  );
  const name = useCallback(
    (id: string | null | undefined): string => {
      if (!id) return "—";
      if (id === EXTERNAL) return t("departments.external");
      return names.get(id) ?? id;
    },
    [names, t],
  );
  return { query: departments, list: departments.data ?? [], name };
}
