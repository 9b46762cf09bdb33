/**
 * A follow-up's conversation for the anthropic engine: the parent's messages (as the engine
 * sent and received them) with the new message appended, so that the model reads the
 * whole thread; or, when that is too large or unreadable, a new conversation seeded with
 * the thread's summary.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";
import type { ResumeState } from "./types.js";

const zBlock = z.looseObject({ type: z.string() });
const zMessage = z.object({ role: z.enum(["user", "assistant"]), content: z.union([z.string(), z.array(zBlock)]) });
const zTranscript = z.array(zMessage).min(1);

/** About four characters of JSON per token: a conservative estimate for deciding what fits. */
export const CHARS_PER_TOKEN = 4;

export interface StartingConversation {
  messages: Anthropic.MessageParam[];
  mode: "fresh" | "resumed" | "seeded";
  reason: string | null;
}

/** The first messages of a run: its prompt alone, or a follow-up's continued or seeded conversation. */
export function startingConversation(prompt: string, resume: ResumeState | null | undefined, maxChars: number): StartingConversation {
  if (!resume) return { messages: [{ role: "user", content: prompt }], mode: "fresh", reason: null };
  const seeded = (reason: string): StartingConversation => ({
    messages: [{ role: "user", content: `${resume.seed}\n\n## What to do now\n${prompt}` }],
    mode: "seeded",
    reason,
  });
  if (!resume.transcript) return seeded("no_transcript");
  const parsed = zTranscript.safeParse(resume.transcript);
  if (!parsed.success) return seeded("transcript_unreadable");
  const size = JSON.stringify(parsed.data).length + prompt.length;
  if (size > maxChars) return seeded(`transcript_too_large (about ${Math.round(size / CHARS_PER_TOKEN)} tokens)`);
  // The shape was checked above; the blocks are the engine's own, sent back as they were.
  const messages = parsed.data as Anthropic.MessageParam[];
  return { messages: appendUserText(messages, prompt), mode: "resumed", reason: null };
}

/**
 * Appends a person's text as the next user turn. The conversation may have stopped anywhere:
 * after the model's answer (a new turn), after tool results (the text joins that turn), or
 * with tool calls that never ran (each gets a result saying so, then the text).
 */
export function appendUserText(messages: Anthropic.MessageParam[], text: string): Anthropic.MessageParam[] {
  const out = [...messages];
  const last = out.at(-1);
  const textBlock: Anthropic.TextBlockParam = { type: "text", text };
  if (!last) return [{ role: "user", content: text }];
  if (last.role === "user") {
    const content: Anthropic.ContentBlockParam[] = typeof last.content === "string" ? [{ type: "text", text: last.content }] : [...last.content];
    out[out.length - 1] = { role: "user", content: [...content, textBlock] };
    return out;
  }
  const pending: Anthropic.ToolUseBlockParam[] = typeof last.content === "string" ? [] : last.content.flatMap((b) => (b.type === "tool_use" ? [b] : []));
  if (pending.length === 0) return [...out, { role: "user", content: text }];
  const results: Anthropic.ToolResultBlockParam[] = pending.map((u) => ({
    type: "tool_result",
    tool_use_id: u.id,
    content: "the run stopped before this tool call was carried out",
    is_error: true,
  }));
  return [...out, { role: "user", content: [...results, textBlock] }];
}
