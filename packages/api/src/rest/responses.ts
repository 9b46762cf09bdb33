import { z } from "zod";

/**
 * What the REST answers look like, for the OpenAPI document. The answers themselves are
 * what the procedures return (the services' Prisma rows, serialized as JSON); these schemas
 * describe the fields a client can rely on and allow more (`looseObject`). The REST tests
 * check every answer they receive against the schema documented for it, so the two cannot
 * drift apart unnoticed.
 */

const id = z.string().meta({ description: "An opaque id." });
const date = z.iso.datetime({ offset: true }).meta({ description: "An ISO 8601 timestamp (UTC)." });
const nullableDate = date.nullable();
const labels = z.array(z.string());
const json = z.json();

export const ZRunStatusOut = z.enum(["queued", "claimed", "running", "succeeded", "failed", "cancelled", "merged", "aborted"]).meta({ id: "RunStatus" });
export const ZEngineOut = z.enum(["anthropic", "claude_code", "command", "acp"]).meta({ id: "Engine" });

export const ZWorkspace = z
  .looseObject({ id, name: z.string(), slug: z.string(), budgetUsd: z.number().nullable(), spentUsd: z.number(), createdAt: date })
  .meta({ id: "Workspace" });
export const ZBoard = z.looseObject({ id, workspaceId: id, name: z.string(), createdAt: date }).meta({ id: "Board" });
export const ZProject = z
  .looseObject({
    id,
    workspaceId: id,
    name: z.string(),
    repoPath: z.string(),
    baseBranch: z.string(),
    remoteUrl: z.string().nullable(),
    setupScript: z.string().nullable(),
    testCommand: z.string().nullable(),
    hooks: json.nullable(),
    createdAt: date,
  })
  .meta({ id: "Project" });
export const ZCard = z
  .looseObject({
    id,
    boardId: id,
    projectId: id,
    column: z.enum(["backlog", "todo", "in_progress", "in_review", "done"]),
    position: z.number(),
    title: z.string(),
    description: z.string(),
    labels,
    createdAt: date,
    updatedAt: date,
  })
  .meta({ id: "Card" });
export const ZDodSpecOut = z.looseObject({
  key: z.string(),
  title: z.string(),
  required: z.boolean(),
  check: z.string().nullish(),
  autoValidate: z.boolean(),
  carryOver: z.boolean(),
});
export const ZWorkflow = z
  .looseObject({
    id,
    workspaceId: id,
    name: z.string(),
    promptTemplate: z.string(),
    engine: ZEngineOut,
    model: z.string().nullable(),
    command: z.string().nullable(),
    maxTurns: z.number().int().nullable(),
    timeoutMs: z.number().int().nullable(),
    budgetUsd: z.number().nullable(),
    dod: z.array(ZDodSpecOut),
    isDefault: z.boolean(),
    createdAt: date,
    updatedAt: date,
  })
  .meta({ id: "Workflow" });

/** A run as lists show it: everything but the large texts (diff, logs, test output). */
export const ZRun = z
  .looseObject({
    id,
    workspaceId: id,
    boardId: id,
    cardId: id,
    projectId: id,
    workflowId: id.nullable(),
    status: ZRunStatusOut,
    priority: z.number().int(),
    labels,
    prompt: z.string(),
    engine: ZEngineOut,
    model: z.string().nullable(),
    command: z.string().nullable(),
    branch: z.string(),
    baseBranch: z.string(),
    runnerId: id.nullable(),
    attempt: z.number().int(),
    leaseExpiresAt: nullableDate,
    cancelRequestedAt: nullableDate,
    worktreePath: z.string().nullable(),
    summary: z.string().nullable(),
    filesChanged: z.array(z.string()).nullable(),
    diffHash: z.string().nullable(),
    testsRun: z.boolean().nullable(),
    testsPassed: z.boolean().nullable(),
    tokensIn: z.number().int(),
    tokensOut: z.number().int(),
    costUsd: z.number(),
    toolCalls: z.number().int(),
    durationMs: z.number().int().nullable(),
    error: z.string().nullable(),
    errorReason: z.string().nullable(),
    agent: z
      .looseObject({ name: z.string(), command: z.string(), args: z.array(z.string()), env: z.record(z.string(), z.string()), permissions: z.string() })
      .nullish()
      .meta({ description: "For `acp` runs: the agent profile as it was when the run was created." }),
    eventSeq: z.number().int().meta({ description: "The sequence number of the run's last event." }),
    createdAt: date,
    startedAt: nullableDate,
    finishedAt: nullableDate,
    mergedAt: nullableDate,
  })
  .meta({ id: "Run" });

export const ZEvidence = z
  .looseObject({
    id,
    itemId: id,
    runId: id,
    kind: z.enum(["text", "file", "url", "check"]),
    text: z.string().nullable(),
    url: z.string().nullable(),
    fileName: z.string().nullable(),
    command: z.string().nullable(),
    exitCode: z.number().int().nullable(),
    createdBy: z.string(),
    createdAt: date,
    validatedAt: nullableDate,
    validatedBy: z.string().nullable(),
    rejectedAt: nullableDate,
    rejectReason: z.string().nullable(),
  })
  .meta({ id: "Evidence" });

export const ZDodItem = z
  .looseObject({
    id,
    runId: id,
    key: z.string(),
    title: z.string(),
    required: z.boolean(),
    check: z.string().nullable(),
    autoValidate: z.boolean(),
    carryOver: z.boolean(),
    status: z.enum(["pending", "done", "validated", "failed"]),
    evidence: z.array(ZEvidence),
  })
  .meta({ id: "DodItem" });

/** One run with its Definition-of-Done items and evidence, its diff, logs and test output. */
export const ZRunDetail = ZRun.extend({
  diff: z.string().nullable(),
  logs: z.string().nullable(),
  testOutput: z.string().nullable(),
  dodItems: z.array(ZDodItem),
  card: z.looseObject({ id, title: z.string(), column: z.string() }),
  runner: z.looseObject({ id, name: z.string(), hostname: z.string().nullable() }).nullable(),
}).meta({ id: "RunDetail" });

export const ZRunEvent = z
  .looseObject({
    id: z.number().int(),
    runId: id,
    seq: z.number().int().meta({ description: "Gap-free per run, from 1: the SSE `id`." }),
    type: z
      .string()
      .meta({ description: "`run.queued`, `run.claimed`, `run.started`, `agent.message`, `tool.call`, `tool.result`, `command.output`, `run.succeeded`, …" }),
    actor: z.string(),
    payload: z.record(z.string(), json),
    createdAt: date,
  })
  .meta({ id: "RunEvent" });

export const ZRunPage = z
  .looseObject({ items: z.array(ZRun), nextCursor: id.nullable().meta({ description: "Pass as `cursor` for the next page; null on the last." }) })
  .meta({ id: "RunPage" });

export const ZClaim = z
  .looseObject({
    run: ZRun,
    leaseToken: z.string().meta({ description: "The fencing token: every later runner call carries it." }),
    project: z.looseObject({
      id,
      name: z.string(),
      repoPath: z.string(),
      baseBranch: z.string(),
      remoteUrl: z.string().nullable(),
      setupScript: z.string().nullable(),
      testCommand: z.string().nullable(),
    }),
    checks: z.array(z.looseObject({ id, key: z.string(), check: z.string().nullable(), autoValidate: z.boolean() })),
  })
  .meta({ id: "Claim" });

export const ZLease = z.looseObject({ leaseExpiresAt: date, cancelRequested: z.boolean() }).meta({ id: "Lease" });
export const ZStarted = ZLease.extend({ run: ZRun }).meta({ id: "Started" });
export const ZAppended = z.looseObject({ lastSeq: z.number().int(), appended: z.number().int() }).meta({ id: "Appended" });
export const ZAgentProfile = z
  .looseObject({
    id,
    workspaceId: id,
    name: z.string(),
    command: z.string(),
    args: z.array(z.string()),
    env: z.record(z.string(), z.string()),
    permissions: z.enum(["allow", "deny"]),
    createdAt: date,
    updatedAt: date,
  })
  .meta({ id: "AgentProfile" });
export const ZWhoami = z
  .looseObject({ name: z.string(), role: z.enum(["admin", "member", "viewer", "runner"]), workspaceId: id.nullable() })
  .meta({ id: "Whoami" });
export const ZHealth = z.looseObject({ status: z.string(), db: z.string() }).meta({ id: "Health" });

/** Answers documented by their purpose rather than field by field (merge, abort, provenance…). */
export const ZObject = (name: string, description: string) => z.looseObject({}).meta({ id: name, description });

const REASON_DESCRIPTION =
  "Machine-readable: NOT_FOUND, ALREADY_CLAIMED, RUN_LOCKED, LEASE_LOST, NOT_CANCELLABLE, DOD_INCOMPLETE, MERGE_CONFLICT, … (docs/rest-api.md lists them).";

/** The one error shape of every REST answer that is not a success. */
export const ZRestError = z
  .object({
    error: z.object({
      code: z
        .enum(["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "PAYLOAD_TOO_LARGE", "METHOD_NOT_SUPPORTED", "INTERNAL_SERVER_ERROR"])
        .meta({ description: "The HTTP status's name." }),
      reason: z.string().meta({ description: REASON_DESCRIPTION }),
      message: z.string(),
      field: z.string().optional().meta({ description: "The input field at fault (BAD_REQUEST)." }),
      details: z.record(z.string(), json).optional(),
    }),
  })
  .meta({ id: "Error" });
