/**
 * How an agent's permission request (`session/request_permission`) is answered.
 *
 * Under a workflow's approval policy, a request for a call the policy names — a command
 * (`execute`) under `commands`; a command or a change of files (`edit`, `delete`, `move`, or
 * a call the agent does not classify) under `writes` — goes to a person through the run's
 * approval gate: the run shows an `approval.requested` with the command or the file change,
 * and the person's answer picks the agent's "allow once" or "reject once" option (an
 * unanswered request is a rejection). Every other request is answered by the agent
 * profile's policy: `allow` picks an allow option, `deny` a reject option. Either way the
 * decision is recorded as an `agent.permission` event.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import type { PermissionOption, RequestPermissionRequest, RequestPermissionResponse, ToolCallContent, ToolKind } from "@agentclientprotocol/sdk";
import { approvalFor } from "../approval.js";
import type { HeldCalls } from "./held-calls.js";
import type { AgentSpec, ApprovalSubject, EngineContext, EngineEvent } from "../types.js";

/** What a person reads is cut here (the server takes up to 64 KiB). */
const MAX_SUBJECT = 32 * 1024;

function pick(options: PermissionOption[], kinds: PermissionOption["kind"][]): PermissionOption | undefined {
  for (const kind of kinds) {
    const found = options.find((o) => o.kind === kind);
    if (found) return found;
  }
  return undefined;
}

function cut(text: string): { text: string; truncated?: true } {
  return text.length > MAX_SUBJECT ? { text: text.slice(0, MAX_SUBJECT), truncated: true } : { text };
}

function field(input: unknown, ...names: string[]): string | null {
  if (!input || typeof input !== "object") return null;
  for (const name of names) {
    const v = (input as Record<string, unknown>)[name];
    if (typeof v === "string" && v !== "") return v;
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")) return v.join(" ");
  }
  return null;
}

/** The facts of the call the request is about: its own fields, else what its announcement said. */
export interface CallFacts {
  title: string;
  kind: ToolKind | null;
  rawInput: unknown;
  content: ToolCallContent[];
  locations: string[];
  /** Whether the file the call names exists now (null: not known). */
  exists?: boolean | null;
}

/** The call as the person asked about it sees it: the command, or the file and its new content. */
export function subjectOf(call: CallFacts): ApprovalSubject {
  if (call.kind === "execute") {
    const command = cut(field(call.rawInput, "command", "cmd", "commandLine") ?? call.title);
    return { kind: "command", command: command.text, ...(command.truncated ? { truncated: true } : {}) };
  }
  const diff = call.content.find((c): c is Extract<ToolCallContent, { type: "diff" }> => c.type === "diff");
  const file = diff?.path ?? field(call.rawInput, "path", "file_path", "filePath", "abs_path") ?? call.locations[0] ?? call.title;
  const what = call.kind === "delete" || call.kind === "move" ? `${call.kind}: ${call.title}\n${JSON.stringify(call.rawInput ?? null)}` : null;
  const preview = cut(what ?? diff?.newText ?? field(call.rawInput, "content", "new_string", "newText") ?? JSON.stringify(call.rawInput ?? null));
  // Without a diff, whether the file is there says if it is made or overwritten.
  const action = diff
    ? diff.oldText === null || diff.oldText === undefined
      ? "create"
      : "edit"
    : what
      ? "edit"
      : call.exists === false
        ? "create"
        : "overwrite";
  return { kind: "write", path: file.slice(0, 4096) || call.title, action, preview: preview.text, ...(preview.truncated ? { truncated: true } : {}) };
}

/** What the policy would hold the call as; calls that only look (read, search, think, fetch) never wait for a person. */
function approvalKind(kind: ToolKind | null): ApprovalSubject["kind"] | null {
  if (kind === "execute") return "command";
  if (kind === "read" || kind === "search" || kind === "think" || kind === "fetch" || kind === "switch_mode") return null;
  return "write";
}

export interface PermissionContext {
  policy: AgentSpec["permissions"];
  call: CallFacts;
  ctx: Pick<EngineContext, "approval" | "requestApproval" | "signal" | "worktree">;
  /** Told when a person approves: the call may then go through the client without asking again. */
  held?: HeldCalls;
  emit(e: EngineEvent): void;
}

export async function answerPermission(req: RequestPermissionRequest, p: PermissionContext): Promise<RequestPermissionResponse> {
  const toolCallId = req.toolCall.toolCallId;
  const shownTitle = p.call.title;
  const cancelled = (): RequestPermissionResponse => {
    p.emit({ type: "agent.permission", payload: { toolCallId, title: shownTitle, decision: "cancelled", option: null } });
    return { outcome: { outcome: "cancelled" } };
  };
  const choose = (allow: boolean): RequestPermissionResponse => {
    const option = allow ? pick(req.options, ["allow_once", "allow_always"]) : pick(req.options, ["reject_once", "reject_always"]);
    // An agent that offers no option of the kind wanted: the only safe answer is none.
    if (!option) return cancelled();
    p.emit({ type: "agent.permission", payload: { toolCallId, title: shownTitle, decision: allow ? "allowed" : "denied", option: option.optionId } });
    return { outcome: { outcome: "selected", optionId: option.optionId } };
  };
  if (p.ctx.signal.aborted) return cancelled();
  const kind = approvalKind(p.call.kind);
  if (kind !== null) {
    let subject = subjectOf(p.call);
    // Only a file of the worktree is looked at (the path is the agent's word).
    if (subject.kind === "write" && subject.path.startsWith(`${p.ctx.worktree}${path.sep}`))
      subject = subjectOf({
        ...p.call,
        exists: await stat(subject.path).then(
          () => true,
          () => false,
        ),
      });
    let answer: Awaited<ReturnType<typeof approvalFor>>;
    try {
      answer = await approvalFor(p.ctx, `acp.${p.call.kind ?? "other"}`, subject);
    } catch (err) {
      // The run was stopped while a person was asked: the agent is being cancelled.
      if (p.ctx.signal.aborted) return cancelled();
      throw err;
    }
    if (answer) {
      if (answer.decision === "granted") p.held?.granted(subject);
      return choose(answer.decision === "granted");
    }
  }
  return choose(p.policy === "allow");
}
