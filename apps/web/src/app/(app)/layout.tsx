import type { ReactNode } from "react";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { AppShell } from "@/components/shell/app-shell";
import { PERSON_SESSION_COOKIES, SESSION_COOKIE } from "@/server/session-cookie";

/**
 * Every page of the board needs a session. Without the cookie there is nothing to show,
 * so go straight to sign-in; a cookie that no longer verifies is caught by the first API
 * call (UNAUTHORIZED → /login).
 */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const jar = await cookies();
  // A person's session (better-auth's cookie; `__Secure-` under https) or a token sign-in.
  const person = PERSON_SESSION_COOKIES.some((name) => !!jar.get(name)?.value);
  if (!person && !jar.get(SESSION_COOKIE)?.value) redirect("/login");
  return <AppShell>{children}</AppShell>;
}
