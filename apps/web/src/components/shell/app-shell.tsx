"use client";

import type { ReactNode } from "react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useSession } from "@/components/session/use-session";
import { SignOutButton } from "@/components/session/sign-out-button";
import { cn } from "@/components/ui/cn";
import { ThemeToggle } from "./theme-toggle";

const NAV = [
  { href: "/", label: "Boards", match: (p: string) => p === "/" || p.startsWith("/boards") || p.startsWith("/runs/") },
  { href: "/runs", label: "Runs", match: (p: string) => p === "/runs" },
  { href: "/runners", label: "Runners", match: (p: string) => p.startsWith("/runners") },
  { href: "/worktrees", label: "Worktrees", match: (p: string) => p.startsWith("/worktrees") },
  { href: "/members", label: "Members", match: (p: string) => p.startsWith("/members") },
  { href: "/settings", label: "Settings", match: (p: string) => p.startsWith("/settings") },
  { href: "/api-docs", label: "API", match: (p: string) => p.startsWith("/api-docs") },
];

export function AppShell({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const { session } = useSession();
  return (
    <div className="flex min-h-full flex-col">
      <a
        href="#main"
        className={
          "sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 " +
          "focus:rounded focus:bg-white focus:px-3 focus:py-2 dark:focus:bg-zinc-900"
        }
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-zinc-200 bg-white/90 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/90">
        {/* On a narrow screen the nav scrolls sideways inside the header; the page never does. */}
        <div className="flex h-12 min-w-0 items-center gap-3 px-4 sm:gap-6">
          <Link href="/" className="shrink-0 font-semibold tracking-tight">
            agent<span className="text-indigo-600 dark:text-indigo-400">board</span>
          </Link>
          <nav aria-label="Main" className="flex min-w-0 flex-1 items-center gap-1 overflow-x-auto whitespace-nowrap [scrollbar-width:none]">
            {NAV.map((n) => (
              <Link
                key={n.href}
                href={n.href}
                aria-current={n.match(pathname) ? "page" : undefined}
                className={cn(
                  "shrink-0 rounded-md px-2 py-1 text-sm sm:px-2.5",
                  n.match(pathname)
                    ? "bg-zinc-100 font-medium text-zinc-900 dark:bg-zinc-800 dark:text-zinc-50"
                    : "text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100",
                )}
              >
                {n.label}
              </Link>
            ))}
          </nav>
          <div className="ml-auto flex shrink-0 items-center gap-2 whitespace-nowrap">
            {session ? (
              <span className="max-w-28 truncate text-xs text-zinc-500 sm:max-w-none" data-testid="whoami">
                {session.name} · <span className="font-medium text-zinc-700 dark:text-zinc-300">{session.role}</span>
              </span>
            ) : null}
            <ThemeToggle />
            <SignOutButton />
          </div>
        </div>
      </header>
      <main id="main" className="flex min-h-0 flex-1 flex-col">
        {children}
      </main>
    </div>
  );
}
