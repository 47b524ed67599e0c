// Who is signed in, and what their roles let them do (read from the token's claims).
import { jwtDecode } from "jwt-decode";
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { SIGNED_OUT, api, storeToken, storedToken } from "./api";

export type Role =
  | "cco"
  | "community_manager"
  | "conversation_manager"
  | "department_lead"
  | "employee"
  | "system";

type Claims = { sub: string; email?: string; roles?: string[]; department?: string; exp?: number };

export type User = {
  id: string;
  email: string;
  roles: string[];
  department: string | null;
  has: (...roles: Role[]) => boolean;
};

type Session = {
  user: User | null;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => void;
};

const SessionContext = createContext<Session | null>(null);

function userOf(token: string | null): User | null {
  if (!token) return null;
  try {
    const claims = jwtDecode<Claims>(token);
    if (claims.exp && claims.exp * 1000 < Date.now()) return null;
    const roles = Array.isArray(claims.roles) ? claims.roles : [];
    return {
      id: claims.sub,
      email: claims.email ?? claims.sub,
      roles,
      department: claims.department ?? null,
      // The chief community officer may do everything.
      has: (...wanted) => roles.includes("cco") || wanted.some((role) => roles.includes(role)),
    };
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState(storedToken);
  useEffect(() => {
    const forget = () => setToken(null);
    window.addEventListener(SIGNED_OUT, forget);
    return () => window.removeEventListener(SIGNED_OUT, forget);
  }, []);
  const signIn = useCallback(async (email: string, password: string) => {
    const answer = await api<{ access_token: string }>("/auth/token", {
      method: "POST",
      body: { email, password },
      anonymous: true,
    });
    storeToken(answer.access_token);
    setToken(answer.access_token);
  }, []);
  const signOut = useCallback(() => {
    storeToken(null);
    setToken(null);
  }, []);
  const user = useMemo(() => userOf(token), [token]);
  return (
    <SessionContext.Provider value={{ user, signIn, signOut }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** The signed-in person; pages are only shown to someone signed in. */
export function useUser(): User {
  const { user } = useSession();
  if (!user) throw new Error("no one is signed in");
  return user;
}

/** What each role may do, as the contract gives it; the services check again. */
export const may = {
  manageCommunities: (user: User) => user.has("community_manager"),
  moderateReputation: (user: User) => user.has("community_manager", "conversation_manager"),
  manageFaq: (user: User) => user.has("community_manager"),
  managePrograms: (user: User) => user.has(),
  registerPeople: (user: User) => user.has(),
  contribute: (user: User) => user.has("employee"),
};
