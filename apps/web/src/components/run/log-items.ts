import type { RunEventRow } from "../../trpc/types";
import { parsePayload } from "./event-payloads";

/** What the event log shows: events folded into readable items. */
export type LogItem =
  | { kind: "message"; key: string; at: Date; role: "assistant" | "user"; text: string }
  | { kind: "thinking"; key: string; at: Date; text: string }
  | { kind: "tool"; key: string; at: Date; name: string; input: unknown; output: string | null; isError: boolean; awaitingApproval?: boolean }
  | { kind: "output"; key: string; at: Date; stream: "stdout" | "stderr"; text: string }
  | {
      kind: "approval";
      key: string;
      at: Date;
      phase: "requested" | "granted" | "denied" | "expired";
      requestId: string;
      actor: string;
      what: string;
      note: string | null;
    }
  | { kind: "status"; key: string; at: Date; type: string; actor: string; payload: unknown }
  | { kind: "other"; key: string; at: Date; type: string; actor: string; payload: unknown };

const MAX_OUTPUT_BLOCK = 64 * 1024;

/**
 * Folds events into items: a tool result joins its call, consecutive output of one stream
 * becomes one block, usage events are left to the metrics.
 */
export function toLogItems(events: readonly RunEventRow[]): LogItem[] {
  const items: LogItem[] = [];
  const toolIndex = new Map<string, number>();
  for (const e of events) {
    const key = String(e.seq);
    if (e.type === "agent.message") {
      const p = parsePayload("agent.message", e.payload);
      if (p) {
        items.push({ kind: "message", key, at: e.createdAt, role: p.role ?? "assistant", text: p.text });
        continue;
      }
    } else if (e.type === "agent.thinking") {
      const p = parsePayload("agent.thinking", e.payload);
      if (p) {
        items.push({ kind: "thinking", key, at: e.createdAt, text: p.text });
        continue;
      }
    } else if (e.type === "tool.call") {
      const p = parsePayload("tool.call", e.payload);
      if (p) {
        toolIndex.set(p.id, items.length);
        items.push({ kind: "tool", key, at: e.createdAt, name: p.name, input: p.input, output: null, isError: false });
        continue;
      }
    } else if (e.type === "tool.result") {
      const p = parsePayload("tool.result", e.payload);
      const i = p ? toolIndex.get(p.id) : undefined;
      if (p && i != null) {
        const call = items[i];
        if (call?.kind === "tool") {
          items[i] = { ...call, output: p.output, isError: p.isError ?? false };
          continue;
        }
      }
    } else if (e.type === "command.output") {
      const p = parsePayload("command.output", e.payload);
      if (p) {
        const last = items.at(-1);
        if (last?.kind === "output" && last.stream === p.stream && last.text.length < MAX_OUTPUT_BLOCK) {
          items[items.length - 1] = { ...last, text: last.text + p.text };
        } else {
          items.push({ kind: "output", key, at: e.createdAt, stream: p.stream, text: p.text });
        }
        continue;
      }
    } else if (e.type === "agent.usage") {
      continue;
    } else if (e.type === "approval.requested") {
      const p = parsePayload("approval.requested", e.payload);
      if (p) {
        const what = typeof p.subject.command === "string" ? p.subject.command : `${String(p.subject.action ?? "change")} ${String(p.subject.path ?? "")}`;
        markOpenTool(items, true);
        items.push({
          kind: "approval",
          key,
          at: e.createdAt,
          phase: "requested",
          requestId: p.requestId,
          actor: e.actor,
          what: `${p.tool}: ${what}`,
          note: null,
        });
        continue;
      }
    } else if (e.type === "approval.granted" || e.type === "approval.denied" || e.type === "approval.expired") {
      const p = parsePayload(e.type, e.payload);
      if (p) {
        const phase = e.type === "approval.granted" ? "granted" : e.type === "approval.denied" ? "denied" : "expired";
        markOpenTool(items, false);
        items.push({
          kind: "approval",
          key,
          at: e.createdAt,
          phase,
          requestId: p.requestId,
          actor: e.actor,
          what: "",
          note: "note" in p ? (p.note ?? null) : null,
        });
        continue;
      }
    }
    items.push({ kind: e.type.startsWith("run.") ? "status" : "other", key, at: e.createdAt, type: e.type, actor: e.actor, payload: e.payload });
  }
  return items;
}

/** The tool call still waiting for its result: it waits for a person while a request is open. */
function markOpenTool(items: LogItem[], awaiting: boolean): void {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (item.kind === "tool" && item.output == null) {
      items[i] = { ...item, awaitingApproval: awaiting };
      return;
    }
  }
}

/** The latest usage an agent reported (live tokens and cost while a run is going). */
export function latestUsage(events: readonly RunEventRow[]): { tokensIn: number; tokensOut: number; costUsd: number } | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === "agent.usage") return parsePayload("agent.usage", e.payload);
  }
  return null;
}

export function countToolCalls(events: readonly RunEventRow[]): number {
  return events.reduce((n, e) => (e.type === "tool.call" ? n + 1 : n), 0);
}

/**
 * The colours of a log block. A terminal block is dark in both themes; its stderr is red
 * there too (one text colour only: two would leave the winner to the stylesheet's order,
 * which is how stderr once showed in the terminal's grey in the light theme).
 */
export function blockTone({ terminal, error }: { terminal?: boolean; error?: boolean }): string {
  if (terminal) return `bg-zinc-900 dark:bg-black ${error ? "text-red-400" : "text-zinc-100"}`;
  return `bg-zinc-50 dark:bg-zinc-950${error ? " text-red-600 dark:text-red-400" : ""}`;
}
