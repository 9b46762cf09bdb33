import { z } from "zod";

/**
 * The start form's last settings, remembered in the browser: per card (a card started again
 * gets what it was started with) and per project (a new card of the project starts from the
 * last settings used there). Read back through zod: what is stored may be from an older
 * version of the form, or edited by hand.
 */
export const zStartSettings = z.object({
  workflowId: z.string().max(100).optional(),
  engine: z.enum(["anthropic", "claude_code", "command", "acp"]).optional(),
  model: z.string().max(100).optional(),
  command: z.string().max(10_000).optional(),
  agentProfile: z.string().max(100).optional(),
  budgetUsd: z.number().positive().max(100_000).optional(),
});

export type StartSettings = z.infer<typeof zStartSettings>;

type KeyValueStore = Pick<Storage, "getItem" | "setItem">;

const cardKey = (cardId: string) => `agentboard:start:card:${cardId}`;
const projectKey = (projectId: string) => `agentboard:start:project:${projectId}`;

function read(store: KeyValueStore, key: string): StartSettings | null {
  const raw = store.getItem(key);
  if (raw === null) return null;
  try {
    const parsed = zStartSettings.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The card's last settings, else the project's, else none. */
export function loadStartSettings(store: KeyValueStore, target: { cardId: string; projectId: string }): StartSettings {
  return read(store, cardKey(target.cardId)) ?? read(store, projectKey(target.projectId)) ?? {};
}

/** Remembers what a run was started with, for the card and its project; blank fields are not kept. */
export function saveStartSettings(store: KeyValueStore, target: { cardId: string; projectId: string }, settings: StartSettings): void {
  const kept = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined && v !== "")) as StartSettings;
  const value = JSON.stringify(zStartSettings.parse(kept));
  try {
    store.setItem(cardKey(target.cardId), value);
    store.setItem(projectKey(target.projectId), value);
  } catch {
    // A full or disabled storage only means the form starts blank next time.
  }
}

/** The browser's storage when there is one (not during server rendering, not when blocked). */
export function browserStore(): KeyValueStore | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null;
  }
}
