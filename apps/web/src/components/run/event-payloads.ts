import { z } from "zod";

/**
 * The payloads runners send (apps/runner engines/types.ts EngineEvent). Events are JSON in
 * the database; each is checked here before it is shown, and anything unexpected is shown
 * raw rather than trusted.
 */
export const payloads = {
  "agent.message": z.object({ role: z.enum(["assistant", "user"]).optional(), text: z.string() }),
  "agent.thinking": z.object({ text: z.string() }),
  "tool.call": z.object({ id: z.string(), name: z.string(), input: z.unknown() }),
  "tool.result": z.object({ id: z.string(), name: z.string().optional(), output: z.string(), isError: z.boolean().optional() }),
  "command.output": z.object({ stream: z.enum(["stdout", "stderr"]), text: z.string() }),
  "agent.usage": z.object({ tokensIn: z.number(), tokensOut: z.number(), costUsd: z.number() }),
  // Written by the server (packages/api services/approvals.ts).
  "approval.requested": z.object({ requestId: z.string(), tool: z.string(), kind: z.string(), subject: z.record(z.string(), z.unknown()) }),
  "approval.granted": z.object({ requestId: z.string(), by: z.string(), note: z.string().nullish() }),
  "approval.denied": z.object({ requestId: z.string(), by: z.string(), note: z.string().nullish() }),
  "approval.expired": z.object({ requestId: z.string() }),
} as const;

export type PayloadOf<T extends keyof typeof payloads> = z.infer<(typeof payloads)[T]>;

export function parsePayload<T extends keyof typeof payloads>(type: T, payload: unknown): PayloadOf<T> | null {
  const r = payloads[type].safeParse(payload);
  return r.success ? (r.data as PayloadOf<T>) : null;
}
