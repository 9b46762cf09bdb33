/** Helpers for engine tests: a context that records events and lets a test await one. */
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentSpec, EngineContext, EngineEvent } from "./types.js";

/** The ACP agent of the tests (fixtures/acp-agent.ts), started as an agent profile would start it. */
export function acpTestAgent(permissions: AgentSpec["permissions"] = "allow"): AgentSpec {
  const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/acp-agent.ts");
  const tsx = createRequire(import.meta.url).resolve("tsx");
  return { name: "test-agent", command: process.execPath, args: ["--import", tsx, fixture], env: { AGENT_FLAVOUR: "test" }, permissions };
}

export interface RecordingContext {
  ctx: EngineContext;
  events: EngineEvent[];
  controller: AbortController;
  /** Resolves with the first event (past or future) that matches. */
  waitForEvent(match: (e: EngineEvent) => boolean): Promise<EngineEvent>;
  /** Resolves once the command.output text so far contains `text`. */
  waitForOutput(text: string): Promise<void>;
  /** All command.output text so far. */
  output(): string;
}

export function recordingContext(overrides: Partial<EngineContext> & { worktree: string }): RecordingContext {
  const events: EngineEvent[] = [];
  // Conditions re-checked after every event; each resolves its promise once true.
  const waiters: Array<() => boolean> = [];
  const controller = new AbortController();
  const output = (): string => events.map((e) => (e.type === "command.output" ? e.payload.text : "")).join("");
  const ctx: EngineContext = {
    prompt: "do the task",
    signal: controller.signal,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", LANG: "C.UTF-8" },
    emit(event) {
      events.push(event);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]?.()) waiters.splice(i, 1);
      }
    },
    ...overrides,
  };
  return {
    ctx,
    events,
    controller,
    waitForEvent(match) {
      return new Promise((resolve) => {
        const check = (): boolean => {
          const found = events.find(match);
          if (found) resolve(found);
          return found !== undefined;
        };
        if (!check()) waiters.push(check);
      });
    },
    waitForOutput(text) {
      return new Promise((resolve) => {
        const check = (): boolean => {
          const ok = output().includes(text);
          if (ok) resolve();
          return ok;
        };
        if (!check()) waiters.push(check);
      });
    },
    output,
  };
}

export async function makeTempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), `${prefix}-`)));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Pids printed by a test script as `<label>:<pid>` lines. */
export function pidsFrom(text: string, label: string): number[] {
  const re = new RegExp(`${label}:(\\d+)`, "g");
  return [...text.matchAll(re)].map((m) => Number(m[1]));
}
