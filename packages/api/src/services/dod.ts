import type { DodEvidence, DodItem, DodItemStatus, Prisma, PublicRun as Run, RunStatus } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { publishRunChange } from "../infra/notifier.js";
import { transition, type NewEvent, type Tx } from "./run-events.js";
import { ACTIVE_STATUSES } from "./runs.js";
import { decodeFilePayload, readEvidenceFile, storeEvidenceFile, type FilePayload } from "./evidence-files.js";

/**
 * The Definition of Done of a run: items (copied from the workflow when the run is
 * created, or created on the fly by evidence naming a new key) and the evidence attached
 * to them. An item's status is always derived from its evidence in the same transaction
 * that changes the evidence, so the two cannot disagree.
 */

/** Once a run is merged or aborted its checklist is a closed record. */
export const CLOSED_STATUSES = ["merged", "aborted"] as const satisfies RunStatus[];

/** Stored output of a check: the end is where failures are reported. */
export const CHECK_OUTPUT_TAIL_CHARS = 64 * 1024;

export type EvidenceBody =
  | { kind: "text"; payload: { text: string } }
  | { kind: "url"; payload: { url: string; note?: string } }
  | { kind: "file"; payload: FilePayload }
  /** exitCode null: the check was killed (timeout, signal) — a failure. */
  | { kind: "check"; payload: { command: string; exitCode: number | null; durationMs?: number; output?: string } };

export interface ItemRef {
  itemId?: string;
  itemKey?: string;
  /** Title for an item created by this call (unknown key); the key otherwise. */
  itemTitle?: string;
}

export type AddEvidenceInput = { runId: string } & ItemRef & EvidenceBody;

type EvidenceFacts = Pick<DodEvidence, "kind" | "exitCode" | "validatedAt" | "rejectedAt">;

/** A check that did not pass is evidence against its item, whoever reported it. */
export function isFailingCheck(e: Pick<DodEvidence, "kind" | "exitCode">): boolean {
  return e.kind === "check" && e.exitCode !== 0;
}

export function counts(e: EvidenceFacts): boolean {
  return e.validatedAt !== null && e.rejectedAt === null;
}

/**
 * validated: some evidence is validated and not rejected; otherwise the newest evidence
 * decides — rejected or a failing check: failed; awaiting a decision: done; none: pending.
 * `evidence` must be oldest first.
 */
export function itemStatusOf(evidence: readonly EvidenceFacts[]): DodItemStatus {
  if (evidence.some(counts)) return "validated";
  const latest = evidence.at(-1);
  if (!latest) return "pending";
  if (latest.rejectedAt !== null || isFailingCheck(latest)) return "failed";
  return "done";
}

export interface GateItem {
  itemId: string;
  key: string;
  title: string;
  status: DodItemStatus;
}

/**
 * Required items validated only by evidence given on another head than `head` (the branch
 * moved since: an update from the base): they must be validated again — unless the item
 * carries its validation over (`carryOver`), when any head's counts.
 */
export function staleItems(
  items: readonly (Pick<DodItem, "id" | "key" | "title" | "required" | "status" | "carryOver"> & {
    evidence: (EvidenceFacts & { commit: string | null })[];
  })[],
  head: string | null,
) {
  if (head === null) return [];
  return items
    .filter((i) => i.required && !i.carryOver && i.evidence.some(counts) && !i.evidence.some((e) => counts(e) && (e.commit === null || e.commit === head)))
    .map((i) => ({ itemId: i.id, key: i.key, title: i.title, status: i.status, validatedOn: i.evidence.filter(counts).at(-1)?.commit ?? null }));
}

/** The merge gate: every required item has validated (and not since rejected) evidence. */
/**
 * Four eyes at merge (a workflow's `requireIndependentReview`): the people who validated
 * the run's required items by hand must include someone other than the merger. Automatic
 * checks review nothing. The reason when the merger may not merge alone, else null.
 */
export function independentReviewBlock(
  run: {
    requireIndependentReview: boolean;
    dodItems: readonly { required: boolean; evidence: readonly Pick<DodEvidence, "kind" | "validatedAt" | "rejectedAt" | "validatedById">[] }[];
  },
  mergerId: string | null,
): string | null {
  if (!run.requireIndependentReview || !mergerId) return null;
  const reviewers = new Set<string>();
  for (const item of run.dodItems) {
    if (!item.required) continue;
    for (const e of item.evidence) if (e.kind !== "check" && e.validatedAt && !e.rejectedAt && e.validatedById) reviewers.add(e.validatedById);
  }
  if (reviewers.size > 0 && [...reviewers].every((r) => r === mergerId)) {
    return "this workflow asks for four eyes: you are this run's only reviewer, so someone else merges it (or another person validates an item)";
  }
  return null;
}

export function gateOf(items: readonly (Pick<DodItem, "id" | "key" | "title" | "required" | "status"> & { evidence: EvidenceFacts[] })[]) {
  const missing: GateItem[] = items
    .filter((i) => i.required && !i.evidence.some(counts))
    .map((i) => ({ itemId: i.id, key: i.key, title: i.title, status: i.status }));
  return { satisfied: missing.length === 0, missing };
}

function tail(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(text.length - max);
  // Never start on the second half of a surrogate pair.
  if (/^[\uDC00-\uDFFF]/.test(cut)) cut = cut.slice(1);
  return cut;
}

/** Locks the run row for the rest of the transaction, so DoD changes of one run are serialized. */
async function lockRun(tx: Tx, runId: string, where: Prisma.RunWhereInput) {
  return transition(tx, runId, where, {}, []);
}

async function closedOrMissing(deps: Deps, runId: string): Promise<never> {
  const run = await deps.db.prisma.run.findUnique({ where: { id: runId }, select: { status: true } });
  if (!run) throw notFound("run", runId);
  throw conflict("INVALID_STATE", `run ${runId} is ${run.status}: its Definition of Done is closed`, { status: run.status });
}

class Closed extends Error {}

/** Runs `fn` in a transaction that holds the run's row lock, refusing merged and aborted runs. */
async function inOpenRun<T>(deps: Deps, runId: string, fn: (tx: Tx, run: Run) => Promise<T>): Promise<T> {
  try {
    return await deps.db.prisma.$transaction(async (tx) => {
      const run = await lockRun(tx, runId, { status: { notIn: [...CLOSED_STATUSES] } });
      if (!run) throw new Closed();
      return fn(tx, run);
    });
  } catch (err) {
    if (err instanceof Closed) return closedOrMissing(deps, runId);
    throw err;
  }
}

async function resolveItem(tx: Tx, runId: string, ref: ItemRef): Promise<{ item: DodItem; created: boolean }> {
  if (ref.itemId) {
    const item = await tx.dodItem.findUnique({ where: { id: ref.itemId } });
    if (!item || item.runId !== runId) throw notFound("DoD item", ref.itemId);
    return { item, created: false };
  }
  if (!ref.itemKey) throw badRequest("itemId or itemKey is required", "itemKey");
  const existing = await tx.dodItem.findUnique({ where: { runId_key: { runId, key: ref.itemKey } } });
  if (existing) return { item: existing, created: false };
  const last = await tx.dodItem.findFirst({ where: { runId }, orderBy: { position: "desc" }, select: { position: true } });
  // Not required: evidence must not be a way to add new conditions to someone's merge.
  const item = await tx.dodItem.create({
    data: { runId, key: ref.itemKey, title: ref.itemTitle ?? ref.itemKey, required: false, position: (last?.position ?? -1) + 1 },
  });
  return { item, created: true };
}

async function refreshItemStatus(tx: Tx, itemId: string): Promise<DodItemStatus> {
  const evidence = await tx.dodEvidence.findMany({
    where: { itemId },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { kind: true, exitCode: true, validatedAt: true, rejectedAt: true },
  });
  const status = itemStatusOf(evidence);
  await tx.dodItem.update({ where: { id: itemId }, data: { status } });
  return status;
}

async function notifyRun(deps: Deps, runId: string, boardId: string) {
  await publishRunChange(deps.notifier, runId, boardId);
}

function evidenceColumns(body: EvidenceBody): Omit<Prisma.DodEvidenceUncheckedCreateInput, "itemId" | "runId" | "createdBy"> {
  switch (body.kind) {
    case "text":
      return { kind: "text", text: body.payload.text };
    case "url":
      return { kind: "url", url: body.payload.url, text: body.payload.note ?? null };
    case "check":
      return {
        kind: "check",
        command: body.payload.command,
        exitCode: body.payload.exitCode,
        durationMs: body.payload.durationMs ?? null,
        text: body.payload.output === undefined ? null : tail(body.payload.output, CHECK_OUTPUT_TAIL_CHARS),
      };
    case "file":
      // Filled in by the caller once the file is stored.
      return { kind: "file" };
  }
}

/**
 * Attaches evidence to an item (found by id, or by key — an unknown key creates the item).
 * Evidence added by a person always waits for a person's validation, a check included:
 * only a runner's lease-fenced report can validate by itself.
 */
export async function addEvidence(deps: Deps, actor: string, input: AddEvidenceInput) {
  if (input.kind === "url" && !/^https?:\/\//i.test(input.payload.url)) throw badRequest("only http(s) URLs are accepted", "payload.url");
  // File first, row second: a failure in between leaves an unreferenced file, never a
  // row pointing at nothing. The file is discarded if the transaction does not commit.
  const stored = input.kind === "file" ? await storeEvidenceFile(deps.config.dataDir, decodeFilePayload(input.payload)) : null;
  const columns =
    stored && input.kind === "file"
      ? { ...evidenceColumns(input), fileName: stored.fileName, fileSize: stored.size, text: input.payload.name }
      : evidenceColumns(input);
  const result = await inOpenRun(deps, input.runId, async (tx, run) => {
    const { item, created } = await resolveItem(tx, input.runId, input);
    // Recorded with the head it was given on: once the branch moves, it no longer counts for the merge.
    const evidence = await tx.dodEvidence.create({ data: { ...columns, itemId: item.id, runId: input.runId, createdBy: actor, commit: run.headCommit } });
    const itemStatus = await refreshItemStatus(tx, item.id);
    await transition(tx, input.runId, {}, {}, [
      {
        type: "dod.evidence",
        actor,
        payload: { evidenceId: evidence.id, itemId: item.id, itemKey: item.key, kind: evidence.kind, createdItem: created, itemStatus },
      },
    ]);
    return { evidence, item: { ...item, status: itemStatus }, boardId: run.boardId };
  }).catch(async (err: unknown) => {
    await stored?.discard();
    throw err;
  });
  await notifyRun(deps, input.runId, result.boardId);
  return { evidence: result.evidence, item: result.item };
}

async function loadEvidence(deps: Deps, evidenceId: string) {
  const evidence = await deps.db.prisma.dodEvidence.findUnique({ where: { id: evidenceId } });
  if (!evidence) throw notFound("evidence", evidenceId);
  return evidence;
}

/** For authorization: which run a piece of evidence belongs to. */
export async function runIdOfEvidence(deps: Deps, evidenceId: string): Promise<string> {
  return (await loadEvidence(deps, evidenceId)).runId;
}

type Decision = { kind: "validate" } | { kind: "reject"; reason: string };

/**
 * A person's decision on one piece of evidence. A later decision replaces an earlier one
 * (a validated piece can still be rejected when a problem shows up, and the reverse); the
 * run's events keep every decision in order.
 */
async function decide(deps: Deps, actor: string, evidenceId: string, decision: Decision, actorId: string | null = null) {
  const { runId } = await loadEvidence(deps, evidenceId);
  const now = new Date();
  const result = await inOpenRun(deps, runId, async (tx, run) => {
    // Read again under the run lock: the decision applies to the evidence as it is now.
    const current = await tx.dodEvidence.findUniqueOrThrow({ where: { id: evidenceId }, include: { item: true } });
    if (decision.kind === "validate" && isFailingCheck(current)) {
      throw conflict("INVALID_STATE", `a failing check (exit ${current.exitCode}) cannot be validated; rerun it or attach other evidence`, {
        evidenceId,
        exitCode: current.exitCode,
      });
    }
    if (decision.kind === "validate" && current.item.required && current.kind !== "check" && actorId) {
      const asked = await tx.run.findUniqueOrThrow({ where: { id: runId }, select: { requireIndependentReview: true, createdById: true } });
      if (asked.requireIndependentReview && asked.createdById === actorId) {
        throw conflict(
          "INDEPENDENT_REVIEW",
          "this workflow asks for four eyes: who asked for the run cannot validate its required items; someone else validates them",
          {
            evidenceId,
            itemKey: current.item.key,
          },
        );
      }
    }
    const unchanged = decision.kind === "validate" ? current.validatedAt !== null && current.rejectedAt === null : false;
    if (unchanged) {
      // Validating twice is harmless and records nothing new.
      const { item, ...evidence } = current;
      return { evidence, itemStatus: item.status, item, boardId: run.boardId };
    }
    const evidence = await tx.dodEvidence.update({
      where: { id: evidenceId },
      data:
        decision.kind === "validate"
          ? { validatedAt: now, validatedBy: actor, validatedById: actorId, rejectedAt: null, rejectedBy: null, rejectReason: null }
          : { rejectedAt: now, rejectedBy: actor, rejectReason: decision.reason, validatedAt: null, validatedBy: null, validatedById: null },
    });
    const itemStatus = await refreshItemStatus(tx, current.itemId);
    const event: NewEvent =
      decision.kind === "validate"
        ? { type: "dod.validated", actor, payload: { evidenceId, itemId: current.itemId, itemKey: current.item.key, auto: false, itemStatus } }
        : { type: "dod.rejected", actor, payload: { evidenceId, itemId: current.itemId, itemKey: current.item.key, reason: decision.reason, itemStatus } };
    await transition(tx, runId, {}, {}, [event]);
    return { evidence, itemStatus, item: current.item, boardId: run.boardId };
  });
  await notifyRun(deps, runId, result.boardId);
  const { item, boardId: _board, itemStatus, evidence } = result;
  return { evidence, item: { ...item, status: itemStatus } };
}

export function validateEvidence(deps: Deps, actor: string, evidenceId: string, actorId: string | null = null) {
  return decide(deps, actor, evidenceId, { kind: "validate" }, actorId);
}

export function rejectEvidence(deps: Deps, actor: string, evidenceId: string, reason: string) {
  return decide(deps, actor, evidenceId, { kind: "reject", reason });
}

export interface ReportCheckInput extends ItemRef {
  runId: string;
  leaseToken: string;
  command: string;
  exitCode: number | null;
  durationMs: number;
  timedOut?: boolean;
  output?: string;
}

/**
 * A runner's result for one automatic check, fenced by its lease like every other runner
 * write. It validates the item by itself only when the workflow said so (autoValidate),
 * the check passed, and the command is the one the item prescribes — a runner cannot
 * validate an item by running something easier.
 */
export async function reportCheck(deps: Deps, actor: string, input: ReportCheckInput) {
  const now = new Date();
  const result = await deps.db.prisma.$transaction(async (tx) => {
    const run = await lockRun(tx, input.runId, { leaseToken: input.leaseToken, status: { in: [...ACTIVE_STATUSES] } });
    if (!run) return null;
    const { item, created } = await resolveItem(tx, input.runId, input);
    const auto = item.autoValidate && input.exitCode === 0 && item.check !== null && item.check === input.command;
    const evidence = await tx.dodEvidence.create({
      data: {
        ...evidenceColumns({ kind: "check", payload: input }),
        itemId: item.id,
        runId: input.runId,
        createdBy: actor,
        ...(auto ? { validatedAt: now, validatedBy: actor } : {}),
      },
    });
    const itemStatus = await refreshItemStatus(tx, item.id);
    const base = { evidenceId: evidence.id, itemId: item.id, itemKey: item.key };
    const events: NewEvent[] = [
      {
        type: "dod.evidence",
        actor,
        payload: {
          ...base,
          kind: "check",
          createdItem: created,
          exitCode: input.exitCode,
          durationMs: input.durationMs,
          timedOut: input.timedOut ?? false,
          itemStatus,
        },
      },
    ];
    if (auto) events.push({ type: "dod.validated", actor, payload: { ...base, auto: true, itemStatus } });
    await transition(tx, input.runId, {}, {}, events);
    return { evidence, item: { ...item, status: itemStatus }, autoValidated: auto, boardId: run.boardId };
  });
  if (!result) throw conflict("LEASE_LOST", `the lease on run ${input.runId} is not held by this token (expired, reclaimed or finished)`);
  await notifyRun(deps, input.runId, result.boardId);
  const { boardId: _board, ...out } = result;
  return out;
}

/** The stored bytes of a file evidence, with the display name it was uploaded under. */
export async function getEvidenceFile(deps: Deps, evidenceId: string) {
  const evidence = await loadEvidence(deps, evidenceId);
  if (evidence.kind !== "file" || !evidence.fileName) throw badRequest(`evidence ${evidenceId} is not a file`, "evidenceId");
  const bytes = await readEvidenceFile(deps.config.dataDir, evidence.fileName);
  return { evidenceId, name: evidence.text ?? evidence.fileName, size: bytes.length, contentBase64: bytes.toString("base64") };
}
