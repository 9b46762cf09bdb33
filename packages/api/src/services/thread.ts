/**
 * A card's thread of runs (docs/review-loop.md): runs on one branch, each continuing the
 * one before it. A follow-up is a queued run with `parentRunId`, the parent's branch and
 * settings, starting from the parent's head; the runner that still holds the parent's
 * checkout is preferred for it (runner-protocol.ts), and the agent resumes the conversation
 * (`resumeContext`).
 */
import type { Engine, Prisma, PublicRun as Run, RunKind } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { conflict, notFound } from "../errors.js";
import { topics } from "../infra/notifier.js";
import { transition } from "./run-events.js";
import { ACTIVE_STATUSES } from "./runs.js";
import { assertCardBudget } from "./card-budget.js";
import { branchNameForRun } from "@agentboard/git";
import { linesOfDiff } from "./diff-lines.js";
import { commentsMessage, whereOf, type CommentForPrompt } from "./review-prompt.js";

export interface FollowUpInput {
  runId: string;
  message: string;
  commentIds?: string[];
  engine?: Engine;
  model?: string;
  command?: string;
}

/** Statuses a thread can be continued from: the work is on the branch and nothing holds it. */
const CONTINUABLE = ["succeeded", "failed", "cancelled"] as const;

/** The thread's runs, oldest first: every run of the card on the same branch. */
export async function threadRuns(deps: Deps, run: Pick<Run, "cardId" | "branch">) {
  return deps.db.prisma.run.findMany({
    where: { cardId: run.cardId, branch: run.branch },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    omit: { diff: true, logs: true, testOutput: true },
  });
}

/** The card's threads, newest first, each with its runs (oldest first) and its totals. */
export async function cardThreads(deps: Deps, cardId: string) {
  const runs = await deps.db.prisma.run.findMany({
    where: { cardId },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: {
      id: true,
      kind: true,
      status: true,
      parentRunId: true,
      branch: true,
      engine: true,
      model: true,
      prompt: true,
      createdBy: true,
      createdAt: true,
      finishedAt: true,
      costUsd: true,
      tokensIn: true,
      tokensOut: true,
      headCommit: true,
      errorReason: true,
      summary: true,
    },
  });
  const card = await deps.db.prisma.card.findUnique({ where: { id: cardId }, select: { budgetUsd: true } });
  if (!card) throw notFound("card", cardId);
  const byBranch = new Map<string, typeof runs>();
  for (const r of runs) byBranch.set(r.branch, [...(byBranch.get(r.branch) ?? []), r]);
  const threads = [...byBranch.entries()].map(([branch, items]) => ({
    branch,
    headRunId: items.at(-1)?.id ?? null,
    costUsd: items.reduce((sum, r) => sum + r.costUsd, 0),
    tokensIn: items.reduce((sum, r) => sum + r.tokensIn, 0n),
    tokensOut: items.reduce((sum, r) => sum + r.tokensOut, 0n),
    runs: items.map((r) => ({ ...r, prompt: r.prompt.length > 2_000 ? `${r.prompt.slice(0, 2_000)}…` : r.prompt })),
  }));
  threads.sort((a, b) => (b.runs.at(-1)?.createdAt.getTime() ?? 0) - (a.runs.at(-1)?.createdAt.getTime() ?? 0));
  return { budgetUsd: card.budgetUsd, spentUsd: runs.reduce((s, r) => s + r.costUsd, 0), threads };
}

/** The run a new run of the thread continues: the thread's latest, finished and not merged. */
async function continuableHead(deps: Deps, runId: string) {
  const parent = await deps.db.prisma.run.findUnique({ where: { id: runId } });
  if (!parent) throw notFound("run", runId);
  if ((ACTIVE_STATUSES as readonly string[]).includes(parent.status) || parent.status === "queued") {
    throw conflict("RUN_ACTIVE", `run ${runId} is ${parent.status}: send it a message (run.sendMessage) or wait for it to end`, { status: parent.status });
  }
  if (!(CONTINUABLE as readonly string[]).includes(parent.status)) {
    throw conflict("INVALID_STATE", `run ${runId} is ${parent.status}; its thread cannot be continued`, { status: parent.status });
  }
  const head = await deps.db.prisma.run.findFirst({
    where: { cardId: parent.cardId, branch: parent.branch },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, status: true },
  });
  if (head && head.id !== parent.id) {
    throw conflict("NOT_THREAD_HEAD", `run ${runId} is not the latest run of its thread; continue ${head.id}`, { headRunId: head.id, status: head.status });
  }
  return parent;
}

export interface NextRunSpec {
  kind: RunKind;
  prompt: string;
  engine?: Engine;
  model?: string;
  command?: string;
  /** The run it continues and where it starts; by default `from` and its head. */
  parentRunId?: string | null;
  startCommit?: string | null;
  /** Whether the runner holding `from`'s checkout is preferred (a follow-up: yes; a re-run starts clean). */
  preferHolder?: boolean;
  /** A new thread: a new branch named for the card, from the base. */
  freshBranchTitle?: string;
}

/**
 * Queues the next run of `parent`'s thread: same branch, same settings unless changed,
 * the parent's Definition of Done again (evidence counts for the head it was given on).
 */
export async function queueThreadRun(deps: Deps, actor: string, parent: Run, spec: NextRunSpec, sentComments: string[] = []) {
  await assertCardBudget(deps, parent.cardId);
  const preferHolder = spec.preferHolder ?? true;
  const [holder, items] = await Promise.all([
    preferHolder
      ? deps.db.prisma.worktree.findFirst({
          where: { runId: parent.id, removedAt: null, runnerId: { not: null } },
          orderBy: { createdAt: "desc" },
          select: { runnerId: true },
        })
      : null,
    deps.db.prisma.dodItem.findMany({
      where: { runId: parent.id },
      orderBy: { position: "asc" },
      // What a carry-over item brings along to the same branch: its validations, whatever head they were on.
      include: { evidence: { where: { validatedAt: { not: null }, rejectedAt: null }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] } },
    }),
  ]);
  const sameBranch = spec.freshBranchTitle === undefined;
  const engine = spec.engine ?? parent.engine;
  const run = await deps.db.prisma.$transaction(async (tx) => {
    const created = await tx.run.create({
      data: {
        workspaceId: parent.workspaceId,
        boardId: parent.boardId,
        cardId: parent.cardId,
        projectId: parent.projectId,
        workflowId: parent.workflowId,
        kind: spec.kind,
        parentRunId: spec.parentRunId === undefined ? parent.id : spec.parentRunId,
        startCommit: spec.startCommit === undefined ? parent.headCommit : spec.startCommit,
        preferredRunnerId: holder?.runnerId ?? null,
        prompt: spec.prompt,
        engine,
        model: spec.model ?? parent.model,
        command: spec.command ?? parent.command,
        ...(parent.agent !== null && engine === "acp" ? { agent: parent.agent as Prisma.InputJsonValue } : {}),
        maxTurns: parent.maxTurns,
        timeoutMs: parent.timeoutMs,
        budgetUsd: parent.budgetUsd,
        approval: parent.approval,
        approvalTimeoutMs: parent.approvalTimeoutMs,
        priority: parent.priority,
        labels: parent.labels as Prisma.InputJsonValue,
        maxAttempts: parent.maxAttempts,
        baseBranch: parent.baseBranch,
        // A fresh branch needs the run id: it is set right below in the same transaction.
        branch: spec.freshBranchTitle === undefined ? parent.branch : "",
        createdBy: actor,
      },
    });
    for (const d of items) {
      const carried = sameBranch && d.carryOver ? d.evidence : [];
      const item = await tx.dodItem.create({
        data: {
          runId: created.id,
          key: d.key,
          title: d.title,
          required: d.required,
          check: d.check,
          autoValidate: d.autoValidate,
          carryOver: d.carryOver,
          position: d.position,
          status: carried.length > 0 ? "validated" : "pending",
        },
      });
      if (carried.length > 0) {
        // Copies that keep the head they were given on (`commit`) and who validated them.
        await tx.dodEvidence.createMany({
          data: carried.map(({ id: _id, itemId: _item, runId: _run, ...e }) => ({ ...e, itemId: item.id, runId: created.id })),
        });
      }
    }
    if (sentComments.length > 0) await tx.reviewComment.updateMany({ where: { id: { in: sentComments } }, data: { sentInRunId: created.id } });
    const branch = spec.freshBranchTitle === undefined ? {} : { branch: branchNameForRun({ runId: created.id, title: spec.freshBranchTitle }) };
    return transition(tx, created.id, {}, branch, [
      {
        type: "run.queued",
        actor,
        payload: {
          engine,
          model: created.model,
          priority: created.priority,
          workflowId: created.workflowId,
          approval: created.approval,
          kind: spec.kind,
          parentRunId: spec.parentRunId === undefined ? parent.id : spec.parentRunId,
          from: parent.id,
          comments: sentComments.length,
        },
      },
    ]);
  });
  if (!run) throw new Error("run vanished while being created");
  await Promise.all([deps.notifier.publish(topics.queued(run.workspaceId)), deps.notifier.publish(topics.board(run.boardId))]);
  return run;
}

/** `run.followUp`: the agent goes back to work on the thread's branch with the conversation kept. */
export async function followUp(deps: Deps, actor: string, input: FollowUpInput) {
  const parent = await continuableHead(deps, input.runId);
  let prompt = input.message.trim();
  const ids = [...new Set(input.commentIds ?? [])];
  if (ids.length > 0) {
    const comments = await deps.db.prisma.reviewComment.findMany({
      where: { id: { in: ids }, cardId: parent.cardId },
      orderBy: [{ path: "asc" }, { line: "asc" }, { createdAt: "asc" }, { id: "asc" }],
    });
    const missing = ids.filter((id) => !comments.some((c) => c.id === id));
    if (missing.length > 0) throw notFound("review comment", missing[0] ?? "");
    const forPrompt: CommentForPrompt[] = await Promise.all(comments.map(async (c) => ({ ...c, code: await codeAround(deps, parent, c) })));
    prompt = commentsMessage(forPrompt, prompt);
  }
  if (prompt === "") throw conflict("INVALID_STATE", "a follow-up needs a message or comments");
  return queueThreadRun(deps, actor, parent, { kind: "follow_up", prompt, engine: input.engine, model: input.model, command: input.command }, ids);
}

export interface RetryInput {
  runId: string;
  engine?: Engine;
  model?: string;
  command?: string;
  /** Start over on a new branch from the base instead of the same branch. */
  freshBranch?: boolean;
}

/**
 * `run.retry`: the run again with the same settings (unless changed). On the same branch it
 * starts where the run started (its partial work is replaced) and continues the same
 * conversation as the run did; with `freshBranch` it is a new thread from the base.
 */
export async function retryRun(deps: Deps, actor: string, input: RetryInput) {
  const run = await deps.db.prisma.run.findUnique({ where: { id: input.runId } });
  if (!run) throw notFound("run", input.runId);
  if (run.status === "queued" || (ACTIVE_STATUSES as readonly string[]).includes(run.status)) {
    throw conflict("RUN_ACTIVE", `run ${run.id} is ${run.status}; cancel it first`, { status: run.status });
  }
  if (run.status === "merged") throw conflict("INVALID_STATE", `run ${run.id} is merged; start a new run on the card`, { status: run.status });
  const spec = { kind: "retry" as const, prompt: run.prompt, engine: input.engine, model: input.model, command: input.command };
  if (input.freshBranch) {
    const card = await deps.db.prisma.card.findUniqueOrThrow({ where: { id: run.cardId }, select: { title: true } });
    return queueThreadRun(deps, actor, run, { ...spec, parentRunId: null, startCommit: null, preferHolder: false, freshBranchTitle: card.title });
  }
  const head = await deps.db.prisma.run.findFirst({
    where: { cardId: run.cardId, branch: run.branch },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, status: true },
  });
  if (head && head.id !== run.id)
    throw conflict("NOT_THREAD_HEAD", `run ${run.id} is not the latest run of its thread; retry ${head.id}`, { headRunId: head.id, status: head.status });
  return queueThreadRun(deps, actor, run, { ...spec, parentRunId: run.parentRunId, startCommit: run.startCommit, preferHolder: false });
}

/**
 * The lines a comment points at, from the diff of the run it was made on: the commented line,
 * or every line of a range, marked with `>`, and a couple of lines of context either side.
 */
async function codeAround(
  deps: Deps,
  _parent: Run,
  c: { runId: string; path: string; line: number; endLine: number | null; side: "old" | "new"; lineText: string },
): Promise<string[]> {
  const run = await deps.db.prisma.run.findUnique({ where: { id: c.runId }, select: { diff: true } });
  const lines = linesOfDiff(run?.diff ?? "", c.path);
  const last = c.endLine ?? c.line;
  const inRange = (l: { side: "old" | "new"; line: number }) => l.side === c.side && l.line >= c.line && l.line <= last;
  const from = lines.findIndex(inRange);
  if (from < 0) return c.lineText ? c.lineText.split("\n").map((t) => `> ${t}`) : [];
  let to = from;
  lines.forEach((l, i) => {
    if (inRange(l)) to = i;
  });
  return lines.slice(Math.max(0, from - 2), to + 3).map((l) => `${inRange(l) ? ">" : " "} ${l.text}`);
}

/** What a runner needs to continue a thread: where it starts and the conversation so far. */
export async function resumeContext(deps: Deps, input: { runId: string; leaseToken: string }) {
  const { runId } = input;
  const run = await deps.db.prisma.run.findFirst({ where: { id: runId, leaseToken: input.leaseToken, status: { in: [...ACTIVE_STATUSES] } } });
  if (!run) throw conflict("LEASE_LOST", `the lease on run ${runId} is not held by this token (expired, reclaimed or finished)`);
  if (!run.parentRunId) return { parentRunId: null, startCommit: run.startCommit, transcript: null, sessionId: null, seed: null };
  const parent = await deps.db.prisma.run.findUnique({ where: { id: run.parentRunId }, include: { transcript: true } });
  return {
    parentRunId: run.parentRunId,
    startCommit: run.startCommit,
    transcript: parent?.transcript ? { engine: parent.transcript.engine, messages: parent.transcript.messages, chars: parent.transcript.chars } : null,
    sessionId: parent?.sessionId ?? null,
    seed: await threadSummary(deps, run),
  };
}

/**
 * A new conversation's start when the old one cannot be resumed: the thread's prompt, what
 * each run did, the diff stat of the branch, and the open comments.
 */
export async function threadSummary(deps: Deps, run: Run): Promise<string> {
  const runs = (await threadRuns(deps, run)).filter((r) => r.id !== run.id);
  const open = await deps.db.prisma.reviewComment.findMany({
    where: { cardId: run.cardId, resolvedAt: null, runId: { in: runs.map((r) => r.id) } },
    orderBy: [{ path: "asc" }, { line: "asc" }, { createdAt: "asc" }, { id: "asc" }],
  });
  const last = runs.at(-1);
  const stat = last?.diffStat as { files?: number; additions?: number; deletions?: number } | null | undefined;
  const files = Array.isArray(last?.filesChanged) ? (last.filesChanged as unknown[]).filter((f): f is string => typeof f === "string") : [];
  const parts = [
    "You are continuing work on a task in this repository. Earlier runs of the task already changed the branch you are on; here is what happened so far.",
    `## The task\n${runs[0]?.prompt ?? run.prompt}`,
    ...runs.slice(1).map((r, i) => `## Follow-up ${i + 1} (${r.status})\n${r.prompt}`),
    ...runs.flatMap((r, i) => (r.summary ? [`## What run ${i + 1} reported\n${r.summary}`] : [])),
    stat
      ? `## What the branch changes so far\n${stat.files ?? 0} files, +${stat.additions ?? 0} -${stat.deletions ?? 0}` +
        (files.length ? `: ${files.slice(0, 50).join(", ")}` : "")
      : "",
    open.length ? `## Open review comments\n${open.map((c) => `- ${whereOf(c)} (${c.author}): ${c.body}`).join("\n")}` : "",
  ];
  return parts
    .filter((p) => p !== "")
    .join("\n\n")
    .slice(0, 60_000);
}
