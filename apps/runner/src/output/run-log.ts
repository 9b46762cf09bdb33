/**
 * A run's human-readable transcript (the run record's `logs`): what the runner did, what
 * hooks and commands printed, what the agent said and which tools it used. Bounded, head
 * and tail kept, so a runaway command cannot make the report too large to send.
 */
import type { EngineEvent } from "../engines/types.js";
import { BoundedOutput } from "@agentboard/sandbox";

const MAX_LOG_CHARS = 1024 * 1024;
const MAX_TOOL_TEXT = 2_000;

function short(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

export class RunLog {
  private readonly out = new BoundedOutput(MAX_LOG_CHARS);
  private atLineStart = true;

  /** A line from the runner itself, timestamped. */
  note(text: string): void {
    this.raw(`${this.atLineStart ? "" : "\n"}[${new Date().toISOString()}] ${text}\n`);
  }

  /** Output of a process, as it came. */
  raw(text: string): void {
    if (text === "") return;
    this.out.push(text);
    this.atLineStart = text.endsWith("\n");
  }

  engineEvent(e: EngineEvent): void {
    switch (e.type) {
      case "agent.message":
        this.note(`${e.payload.role}: ${e.payload.text}`);
        break;
      case "tool.call":
        this.note(`tool ${e.payload.name} ${short(JSON.stringify(e.payload.input) ?? "", MAX_TOOL_TEXT)}`);
        break;
      case "tool.result":
        this.note(`tool ${e.payload.name} ${e.payload.isError ? "failed" : "returned"}: ${short(e.payload.output, MAX_TOOL_TEXT)}`);
        break;
      case "command.output":
        this.raw(e.payload.text);
        break;
      case "agent.plan":
        this.note(`plan: ${e.payload.entries.map((p) => `[${p.status}] ${p.content}`).join("; ")}`);
        break;
      case "agent.permission":
        this.note(`permission ${e.payload.decision}: ${e.payload.title}`);
        break;
      case "agent.thinking":
      case "agent.usage":
        break;
    }
  }

  toString(): string {
    return this.out.toString();
  }
}
