/**
 * An ACP session's updates as run events. Message and thought chunks (a token or a phrase
 * each) are joined until something else happens, so the log gets one `agent.message` per
 * message rather than one per chunk; tool calls keep their input (`rawInput`) and their
 * result (`content` text or `rawOutput`); plans and usage are passed on.
 */
import type { ContentBlock, SessionUpdate, ToolCallContent, ToolCallUpdate, ToolKind } from "@agentclientprotocol/sdk";
import type { CallFacts } from "./permissions.js";
import type { EngineEvent } from "../types.js";

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "resource_link":
      return `[${block.name}](${block.uri})`;
    case "resource":
      return "text" in block.resource ? block.resource.text : `[${block.resource.uri}]`;
    default:
      return `[${block.type}]`;
  }
}

function contentText(content: ToolCallContent[] | null | undefined): string {
  return (content ?? [])
    .map((c) => (c.type === "content" ? blockText(c.content) : c.type === "diff" ? `diff ${c.path}\n${c.newText}` : `[terminal ${c.terminalId}]`))
    .join("\n");
}

/** A message still streaming is sent once its chunks pause this long, so watchers see it live. */
export const DEFAULT_MESSAGE_IDLE_MS = 500;

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "object" && Object.keys(value).length === 0);
}

export class UpdateMapper {
  private chunk: { kind: "message" | "thought"; text: string } | null = null;
  private idle: NodeJS.Timeout | null = null;
  private readonly titles = new Map<string, string>();
  private readonly inputs = new Map<string, unknown>();
  /** What the agent said of each call (kind, raw input, content, locations), for a permission request about it. */
  private readonly facts = new Map<string, { kind: ToolKind | null; rawInput: unknown; content: ToolCallContent[]; locations: string[] }>();
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();
  /** The agent's last complete message: the run's summary. */
  lastMessage = "";
  toolCalls = 0;
  costUsd = 0;

  constructor(
    private readonly emit: (e: EngineEvent) => void,
    private readonly idleMs = DEFAULT_MESSAGE_IDLE_MS,
  ) {}

  /** Sends a pending message or thought. */
  flush(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const c = this.chunk;
    this.chunk = null;
    if (!c || c.text.trim() === "") return;
    if (c.kind === "message") {
      this.lastMessage = c.text.trim();
      this.emit({ type: "agent.message", payload: { role: "assistant", text: c.text } });
    } else this.emit({ type: "agent.thinking", payload: { text: c.text } });
  }

  private append(kind: "message" | "thought", text: string): void {
    if (this.chunk?.kind !== kind) this.flush();
    this.chunk ??= { kind, text: "" };
    this.chunk.text += text;
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.flush(), this.idleMs);
  }

  titleOf(toolCallId: string): string {
    return this.titles.get(toolCallId) ?? toolCallId;
  }

  /** A call as a permission request names it: its own fields first, else what its updates said. */
  callFacts(call: ToolCallUpdate): CallFacts {
    this.remember(call);
    const known = this.facts.get(call.toolCallId);
    return {
      title: call.title ?? this.titleOf(call.toolCallId),
      kind: known?.kind ?? null,
      rawInput: known?.rawInput ?? null,
      content: known?.content ?? [],
      locations: known?.locations ?? [],
    };
  }

  private remember(u: ToolCallUpdate): void {
    const f = this.facts.get(u.toolCallId) ?? { kind: null, rawInput: null, content: [], locations: [] };
    if (u.kind) f.kind = u.kind;
    if (!isEmpty(u.rawInput)) f.rawInput = u.rawInput;
    if (u.content && u.content.length > 0) f.content = u.content;
    if (u.locations && u.locations.length > 0) f.locations = u.locations.map((l) => l.path);
    this.facts.set(u.toolCallId, f);
  }

  apply(u: SessionUpdate): void {
    switch (u.sessionUpdate) {
      case "agent_message_chunk":
        this.append("message", blockText(u.content));
        return;
      case "agent_thought_chunk":
        this.append("thought", blockText(u.content));
        return;
      case "tool_call":
      case "tool_call_update": {
        this.flush();
        this.remember(u);
        if (u.title) this.titles.set(u.toolCallId, u.title);
        if (!isEmpty(u.rawInput)) this.inputs.set(u.toolCallId, u.rawInput);
        else if (!this.inputs.has(u.toolCallId) && u.sessionUpdate === "tool_call")
          this.inputs.set(u.toolCallId, { kind: u.kind ?? "other", locations: u.locations ?? [] });
        // Agents often announce a call before its input is complete (and announce it again,
        // or update it, once it is): the call is reported once, with its input.
        if (!isEmpty(u.rawInput) || u.status === "in_progress") this.announce(u.toolCallId);
        if (u.status === "completed" || u.status === "failed") this.result(u.toolCallId, u.status, u.content, u.rawOutput);
        return;
      }
      case "plan":
        this.flush();
        this.emit({ type: "agent.plan", payload: { entries: u.entries.map((e) => ({ content: e.content, priority: e.priority, status: e.status })) } });
        return;
      case "usage_update":
        if (u.cost && u.cost.currency.toUpperCase() === "USD") {
          this.costUsd = u.cost.amount;
          this.emit({ type: "agent.usage", payload: { tokensIn: 0, tokensOut: 0, costUsd: u.cost.amount } });
        }
        return;
      default:
        // Mode, command list, session info, user echoes: nothing the run log needs.
        return;
    }
  }

  /** At the end of the turn: every call seen is reported, even one that never got input. */
  finish(): void {
    this.flush();
    for (const id of this.titles.keys()) this.announce(id);
  }

  /** Reports the call (once): before its permission request or its result at the latest. */
  announce(id: string): void {
    if (this.announced.has(id)) return;
    this.announced.add(id);
    this.toolCalls++;
    this.emit({ type: "tool.call", payload: { id, name: this.titleOf(id), input: this.inputs.get(id) ?? null } });
  }

  private result(id: string, status: "completed" | "failed", content: ToolCallContent[] | null | undefined, rawOutput: unknown): void {
    this.announce(id);
    if (this.finished.has(id)) return;
    this.finished.add(id);
    const text =
      contentText(content) || (rawOutput === undefined || rawOutput === null ? "" : typeof rawOutput === "string" ? rawOutput : JSON.stringify(rawOutput));
    this.emit({ type: "tool.result", payload: { id, name: this.titleOf(id), output: text, isError: status === "failed" } });
  }
}
