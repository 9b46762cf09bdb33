import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { actorOf, identityOf } from "../auth/principal.js";
import { authedProcedure } from "../trpc.js";
import { zId, zLeaseToken, zShellCommand } from "../schemas.js";
import * as dod from "../services/dod.js";
import { displayNameProblem, EVIDENCE_MAX_BYTES } from "../services/evidence-files.js";
import { zDodKey, zDodTitle } from "./workflow.js";

const MB = 1024 * 1024;

const zItemRef = {
  itemId: zId.optional(),
  itemKey: zDodKey.optional(),
  itemTitle: zDodTitle.optional(),
};

const zDisplayName = z.string().superRefine((name, ctx) => {
  const problem = displayNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const zHttpUrl = z
  .string()
  .max(2048)
  .refine((u) => {
    try {
      const p = new URL(u);
      return p.protocol === "http:" || p.protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an http(s) URL");

// Strict payloads: a key the server does not know (a seed-style `payload_path`, a `path`)
// is an error, not something silently dropped — no caller-supplied path is ever read.
const zTextPayload = z.strictObject({ text: z.string().trim().min(1).max(100_000) });
const zUrlPayload = z.strictObject({ url: zHttpUrl, note: z.string().max(10_000).optional() });
// Base64 of EVIDENCE_MAX_BYTES is ~4/3 of it; the exact byte limit is enforced after
// decoding (PAYLOAD_TOO_LARGE), this bound only keeps absurd strings from being parsed.
const zFilePayload = z.union([
  z.strictObject({ name: zDisplayName, contentBase64: z.string().max(Math.ceil((EVIDENCE_MAX_BYTES * 4) / 3) + 8) }),
  z.strictObject({ name: zDisplayName, content: z.string().max(EVIDENCE_MAX_BYTES + 1) }),
]);
const zCheckPayload = z.strictObject({
  command: zShellCommand,
  exitCode: z.number().int().min(-1).max(255).nullable(),
  durationMs: z
    .number()
    .int()
    .nonnegative()
    .max(7 * 24 * 3600 * 1000)
    .optional(),
  output: z.string().max(MB).optional(),
});

const base = z.object({ runId: zId, ...zItemRef });

export const ZAddEvidenceInput = z
  .discriminatedUnion("kind", [
    base.extend({ kind: z.literal("text"), payload: zTextPayload }),
    base.extend({ kind: z.literal("url"), payload: zUrlPayload }),
    base.extend({ kind: z.literal("file"), payload: zFilePayload }),
    base.extend({ kind: z.literal("check"), payload: zCheckPayload }),
  ])
  .superRefine((input, ctx) => {
    if (!input.itemId === !input.itemKey) ctx.addIssue({ code: "custom", message: "give exactly one of itemId and itemKey", path: ["itemKey"] });
  });

export const ZReportCheckInput = z
  .object({
    runId: zId,
    leaseToken: zLeaseToken,
    ...zItemRef,
    command: zShellCommand,
    /** null when the check was killed (timeout or signal). */
    exitCode: z.number().int().min(-1).max(255).nullable(),
    durationMs: z
      .number()
      .int()
      .nonnegative()
      .max(7 * 24 * 3600 * 1000),
    timedOut: z.boolean().optional(),
    /** The end of the combined output; the server keeps the last 64 KiB. */
    output: z.string().max(MB).optional(),
  })
  .refine((i) => !i.itemId !== !i.itemKey, { message: "give exactly one of itemId and itemKey", path: ["itemKey"] });

export const dodRouter = {
  addEvidence: authedProcedure.input(ZAddEvidenceInput).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "member");
    return dod.addEvidence(ctx.deps, actorOf(ctx.principal), input);
  }),

  validate: authedProcedure.input(z.object({ evidenceId: zId })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(await dod.runIdOfEvidence(ctx.deps, input.evidenceId), "member");
    return dod.validateEvidence(ctx.deps, actorOf(ctx.principal), input.evidenceId, identityOf(ctx.principal));
  }),

  reject: authedProcedure.input(z.object({ evidenceId: zId, reason: z.string().trim().min(1).max(2000) })).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(await dod.runIdOfEvidence(ctx.deps, input.evidenceId), "member");
    return dod.rejectEvidence(ctx.deps, actorOf(ctx.principal), input.evidenceId, input.reason);
  }),

  /** Runner side: the result of one automatic check, fenced by the run's lease. */
  reportCheck: authedProcedure.input(ZReportCheckInput).mutation(async ({ ctx, input }) => {
    await ctx.authorize.run(input.runId, "runner");
    return dod.reportCheck(ctx.deps, actorOf(ctx.principal), input);
  }),

  /** The bytes of a file evidence (base64) with its display name. */
  file: authedProcedure.input(z.object({ evidenceId: zId })).query(async ({ ctx, input }) => {
    await ctx.authorize.runRead(await dod.runIdOfEvidence(ctx.deps, input.evidenceId));
    return dod.getEvidenceFile(ctx.deps, input.evidenceId);
  }),
} satisfies TRPCRouterRecord;
