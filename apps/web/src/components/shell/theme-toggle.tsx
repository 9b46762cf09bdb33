"use client";

import { useEffect, useState } from "react";
import { useTheme } from "next-themes";

const ORDER = ["system", "light", "dark"] as const;
const LABEL: Record<(typeof ORDER)[number], string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };
const ICON: Record<(typeof ORDER)[number], string> = { system: "◐", light: "☀", dark: "☾" };

export function ThemeToggle() {
  const { theme, setTheme } = useTheme();
  // The stored theme is only known in the browser; render a neutral button until then,
  // disabled: before hydration a click would do nothing and be lost.
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  const current = mounted && (theme === "light" || theme === "dark") ? theme : "system";
  const next = ORDER[(ORDER.indexOf(current) + 1) % ORDER.length] ?? "system";
  return (
    <button
      type="button"
      onClick={() => setTheme(next)}
      disabled={!mounted}
      className="rounded-md px-2 py-1 text-sm text-zinc-600 hover:bg-zinc-100 disabled:opacity-60 dark:text-zinc-300 dark:hover:bg-zinc-800"
      aria-label={`${LABEL[current]} (switch to ${next})`}
      title={LABEL[current]}
    >
      <span aria-hidden>{ICON[current]}</span>
    </button>
  );
}
