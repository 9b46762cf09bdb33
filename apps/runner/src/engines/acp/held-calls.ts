/**
 * The approval policy applied to what an ACP agent does through the client, whether or not
 * it asked permission first: under `commands` (and `writes`) every `terminal/create`, under
 * `writes` every `fs/write_text_file`, waits for a person unless a person has just approved
 * that very call through the agent's permission request (`session/request_permission`). An
 * agent that skips asking, or asks about one thing and does another, still cannot run a
 * command or write a file the policy holds without a person's yes.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { RequestError } from "@agentclientprotocol/sdk";
import { approvalFor, refusalText } from "../approval.js";
import { changePreview, MAX_PREVIEW_CHARS } from "../tools/change-preview.js";
import type { Workspace } from "../tools/paths.js";
import { needsApproval, type ApprovalSubject, type EngineContext } from "../types.js";

/** A command line as a person reads it: arguments with spaces or quotes are single-quoted. */
export function commandLine(command: string, args: readonly string[]): string {
  const quote = (a: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [command, ...args].map(quote).join(" ");
}

export class HeldCalls {
  /** Commands a person approved through a permission request, not yet started. */
  private commands = 0;
  /** Files (absolute, as the agent named them) a person approved a write of, not yet written. */
  private readonly writes = new Set<string>();

  constructor(
    private readonly ctx: Pick<EngineContext, "approval" | "requestApproval">,
    private readonly ws: Workspace,
  ) {}

  /** A person approved the call `subject` describes (through the agent's permission request): it may go once. */
  granted(subject: ApprovalSubject): void {
    if (subject.kind === "command") this.commands++;
    else this.writes.add(path.resolve(this.ws.given, subject.path));
  }

  /** Before a terminal starts; throws the JSON-RPC error the agent gets when it may not. */
  async command(command: string, args: readonly string[]): Promise<void> {
    if (!needsApproval(this.ctx.approval, "command")) return;
    if (this.commands > 0) {
      this.commands--;
      return;
    }
    const line = commandLine(command, args);
    const cut = line.length > MAX_PREVIEW_CHARS;
    await this.ask("acp.terminal", { kind: "command", command: cut ? line.slice(0, MAX_PREVIEW_CHARS) : line, ...(cut ? { truncated: true } : {}) }, "command");
  }

  /** Before a write of `abs` (already confined to the worktree) that the agent named `given`. */
  async write(given: string, abs: string, content: string): Promise<void> {
    if (!needsApproval(this.ctx.approval, "write")) return;
    for (const p of [path.resolve(this.ws.given, given), abs]) {
      if (this.writes.delete(p)) return;
    }
    const before = await readFile(abs, "utf8").catch(() => null);
    const rel = path.relative(this.ws.root, abs);
    await this.ask("acp.write_text_file", changePreview(rel, before, content, before === null ? "create" : "overwrite"), "file write");
  }

  private async ask(tool: string, subject: ApprovalSubject, what: string): Promise<void> {
    const answer = await approvalFor(this.ctx, tool, subject);
    if (answer && answer.decision !== "granted") throw new RequestError(-32000, refusalText(answer, what), { approval: answer.decision });
  }
}
