import { randomUUID } from "node:crypto";
import type { Engine, Prisma, RunStatus } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { conflict, notFound } from "../errors.js";
import { publishRunChange, topics } from "../infra/notifier.js";
import { transition } from "./run-events.js";
import { planRun, type RunPlanInput } from "./run-plan.js";
import { assertCardBudget } from "./card-budget.js";
import { branchNameForRun } from "@agentboard/git";
import { isConfined, runLabels } from "@agentboard/sandbox/policy";

export const ACTIVE_STATUSES = ["claimed", "running"] as const satisfies RunStatus[];

export interface CreateRunInput extends RunPlanInput {
  priority?: number;
  labels?: string[];
  maxTurns?: number;
  timeoutMs?: number;
  budgetUsd?: number;
  maxAttempts?: number;
}

/** `actorId`: the requester's stable identity (auth/principal.ts identityOf), for the four-eyes rules. */
export async function createRun(deps: Deps, actor: string, input: CreateRunInput, actorId: string | null = null) {
  const { card, workspaceId, workflow, engine, prompt, model, command, dod, agent } = await planRun(deps, input);
  await assertCardBudget(deps, card.id);

  const run = await deps.db.prisma.$transaction(async (tx) => {
    const created = await tx.run.create({
      data: {
        workspaceId,
        boardId: card.boardId,
        cardId: card.id,
        projectId: card.projectId,
        workflowId: workflow?.id ?? null,
        prompt,
        engine,
        model,
        command,
        ...(agent ? { agent: { ...agent } } : {}),
        maxTurns: input.maxTurns ?? workflow?.maxTurns ?? null,
        timeoutMs: input.timeoutMs ?? workflow?.timeoutMs ?? null,
        budgetUsd: input.budgetUsd ?? workflow?.budgetUsd ?? null,
        // The workflow's policy, not the caller's: a run cannot opt out of its approvals.
        approval: workflow?.approval ?? "none",
        approvalTimeoutMs: workflow?.approvalTimeoutMs ?? null,
        priority: input.priority ?? 0,
        labels: runLabels(input.labels ?? [], isConfined(card.project.sandbox)),
        maxAttempts: input.maxAttempts ?? 3,
        baseBranch: card.project.baseBranch,
        // The branch needs the run id; it is set right below in the same transaction.
        branch: "",
        createdBy: actor,
        createdById: actorId,
        requireIndependentReview: workflow?.requireIndependentReview ?? false,
      },
    });
    if (dod.length > 0) {
      await tx.dodItem.createMany({
        data: dod.map((d, i) => ({
          runId: created.id,
          key: d.key,
          title: d.title,
          required: d.required,
          check: d.check ?? null,
          autoValidate: d.autoValidate ?? false,
          carryOver: d.carryOver ?? false,
          position: i,
        })),
      });
    }
    return transition(tx, created.id, {}, { branch: branchNameForRun({ runId: created.id, title: card.title }) }, [
      {
        type: "run.queued",
        actor,
        payload: { engine, model: created.model, priority: created.priority, workflowId: created.workflowId, approval: created.approval },
      },
    ]);
  });
  if (!run) throw new Error("run vanished while being created");
  await Promise.all([deps.notifier.publish(topics.queued(workspaceId)), deps.notifier.publish(topics.board(run.boardId))]);
  return run;
}

export async function getRun(deps: Deps, runId: string) {
  const run = await deps.db.prisma.run.findUnique({
    where: { id: runId },
    include: {
      dodItems: { orderBy: { position: "asc" }, include: { evidence: { orderBy: { createdAt: "asc" } } } },
      card: { select: { id: true, title: true, column: true } },
      runner: { select: { id: true, name: true, hostname: true } },
    },
  });
  if (!run) throw notFound("run", runId);
  // When it was aborted: its `run.aborted` event. `finishedAt` stays when the agent stopped
  // (a succeeded run aborted days later keeps the time it finished).
  const aborted =
    run.status === "aborted"
      ? await deps.db.prisma.runEvent.findFirst({ where: { runId, type: "run.aborted" }, orderBy: { seq: "desc" }, select: { createdAt: true } })
      : null;
  return { ...run, abortedAt: aborted?.createdAt ?? null };
}

export interface ListRunsInput {
  workspaceId: string;
  status?: RunStatus | RunStatus[];
  boardId?: string;
  cardId?: string;
  projectId?: string;
  engine?: Engine;
  /** Who asked for the runs: an actor as events name it (`user:<email>`, `admin:<name>`…). */
  createdBy?: string;
  since?: Date;
  cursor?: string;
  limit?: number;
}

/** Newest first, paginated by an opaque cursor (the last run id of the previous page). */
export async function listRuns(deps: Deps, input: ListRunsInput) {
  const limit = input.limit ?? 50;
  const where: Prisma.RunWhereInput = {
    workspaceId: input.workspaceId,
    ...(input.status ? { status: Array.isArray(input.status) ? { in: input.status } : input.status } : {}),
    ...(input.boardId ? { boardId: input.boardId } : {}),
    ...(input.cardId ? { cardId: input.cardId } : {}),
    ...(input.projectId ? { projectId: input.projectId } : {}),
    ...(input.engine ? { engine: input.engine } : {}),
    ...(input.createdBy ? { createdBy: input.createdBy } : {}),
    ...(input.since ? { createdAt: { gte: input.since } } : {}),
  };
  const rows = await deps.db.prisma.run.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    omit: { diff: true, logs: true, testOutput: true },
    // What a list of runs shows beside each: the card it worked on.
    include: { card: { select: { title: true } } },
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/**
 * Cancel: a queued run is cancelled at once; a claimed or running run gets a cancel
 * request that its runner sees on its event stream or next heartbeat; a finished run
 * cannot be cancelled.
 */
export async function cancelRun(deps: Deps, actor: string, runId: string, reason?: string) {
  const run = await deps.db.prisma.run.findUnique({ where: { id: runId } });
  if (!run) throw notFound("run", runId);
  const now = new Date();
  const updated = await deps.db.prisma.$transaction(async (tx) => {
    const cancelled = await transition(
      tx,
      runId,
      { status: "queued" },
      { status: "cancelled", finishedAt: now, closedBy: actor, closedReason: reason ?? null, cancelRequestedAt: now, cancelRequestedBy: actor },
      [{ type: "run.cancelled", actor, payload: { reason: reason ?? null, from: "queued" } }],
    );
    if (cancelled) return cancelled;
    return transition(
      tx,
      runId,
      { status: { in: [...ACTIVE_STATUSES] }, cancelRequestedAt: null },
      { cancelRequestedAt: now, cancelRequestedBy: actor, closedReason: reason ?? null },
      [{ type: "run.cancel_requested", actor, payload: { reason: reason ?? null } }],
    );
  });
  if (!updated) {
    const current = await deps.db.prisma.run.findUnique({ where: { id: runId } });
    if (current && (ACTIVE_STATUSES as readonly string[]).includes(current.status) && current.cancelRequestedAt) return current;
    throw conflict("NOT_CANCELLABLE", `run ${runId} is ${current?.status ?? "gone"} and cannot be cancelled`, { status: current?.status });
  }
  await publishRunChange(deps.notifier, runId, updated.boardId);
  return updated;
}

export interface RunEventsPageInput {
  runId: string;
  /** Events before this sequence number (the `older` cursor of the page after it); the latest without it. */
  beforeSeq?: number;
  limit?: number;
  /** Only these types; `run.*` names every type that starts with `run.`. */
  types?: string[];
}

/**
 * A page of a run's events, latest first: what a long run's page loads first, and then
 * older pages on demand. `older` continues before the last event of the page; null when
 * there is nothing older. `lastSeq` is the run's latest event, to follow live from.
 */
export async function runEventsPage(deps: Deps, input: RunEventsPageInput) {
  const limit = input.limit ?? 200;
  const types = input.types?.map((t) => (t.endsWith(".*") ? { type: { startsWith: t.slice(0, -1) } } : { type: t }));
  const [rows, run] = await Promise.all([
    deps.db.prisma.runEvent.findMany({
      where: { runId: input.runId, ...(input.beforeSeq !== undefined ? { seq: { lt: input.beforeSeq } } : {}), ...(types ? { OR: types } : {}) },
      orderBy: { seq: "desc" },
      take: limit + 1,
    }),
    deps.db.prisma.run.findUniqueOrThrow({ where: { id: input.runId }, select: { eventSeq: true } }),
  ]);
  const events = rows.slice(0, limit);
  return { events, older: rows.length > limit ? events.at(-1)!.seq : null, lastSeq: run.eventSeq };
}

export async function listRunEvents(deps: Deps, input: { runId: string; afterSeq?: number; limit?: number }) {
  return deps.db.prisma.runEvent.findMany({
    where: { runId: input.runId, seq: { gt: input.afterSeq ?? 0 } },
    orderBy: { seq: "asc" },
    take: input.limit ?? 500,
  });
}

/**
 * `run.sendMessage`: a person's message to the running agent, a `user.message` event by its
 * author. The runner hears it on the stream it follows and hands it to the agent at its next
 * turn. A run that is not running cannot hear it: CONFLICT RUN_ENDED (follow up instead).
 */
export async function sendMessage(deps: Deps, actor: string, input: { runId: string; text: string }) {
  const messageId = randomUUID();
  const updated = await deps.db.prisma.$transaction((tx) =>
    transition(tx, input.runId, { status: { in: [...ACTIVE_STATUSES] } }, {}, [{ type: "user.message", actor, payload: { messageId, text: input.text } }]),
  );
  if (!updated) {
    const current = await deps.db.prisma.run.findUnique({ where: { id: input.runId }, select: { status: true } });
    if (!current) throw notFound("run", input.runId);
    if (current.status === "queued") {
      throw conflict("RUN_NOT_RUNNING", `run ${input.runId} has not started; its agent cannot hear a message yet`, { status: current.status });
    }
    throw conflict("RUN_ENDED", `run ${input.runId} is ${current.status}: its agent has stopped; send the message as a follow-up (run.followUp)`, {
      status: current.status,
      suggestion: "run.followUp",
    });
  }
  await Promise.all([deps.notifier.publish(topics.run(input.runId)), deps.notifier.publish(topics.board(updated.boardId))]);
  return { messageId, runId: input.runId, status: updated.status };
}
