// Calls to the platform through the gateway, with the signed-in person's token.
import { useQuery } from "@tanstack/react-query";

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
    refetchInterval,
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
