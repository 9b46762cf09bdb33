import type { z } from "zod";
import * as R from "./responses.js";

/**
 * The REST facade's one table: each operation names the tRPC procedure it calls. Inputs are
 * the procedure's own zod schema (path parameters, query string and JSON body merged into
 * one object), so every rule stays in the router and its services; nothing here validates,
 * authorizes or decides. The OpenAPI document and the handler are both made from this table.
 */
export interface RestRoute {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** The OpenAPI path template under /api/v1, e.g. `/runs/{runId}`. */
  path: string;
  /** The dotted tRPC procedure path. */
  procedure: string;
  tag: "Runner protocol" | "Runs" | "Evidence" | "Cards" | "Boards" | "Projects" | "Workflows" | "Worktrees" | "Workspaces" | "Agent profiles" | "System";
  summary: string;
  description?: string;
  /** The status of a success (default 200). */
  status?: 200 | 201;
  response: z.ZodType;
  /** A procedure answer of null is sent as 204 No Content (a claim that found no run). */
  noContentWhenNull?: true;
  /** The operation also answers `Accept: text/event-stream` with the run's live event stream. */
  eventStream?: true;
  /** No bearer token needed. */
  public?: true;
}

const run = (summary: string, description?: string) => ({ tag: "Runs" as const, summary, description });
const runner = (summary: string, description?: string) => ({ tag: "Runner protocol" as const, summary, description });

export const restRoutes: RestRoute[] = [
  {
    method: "GET",
    path: "/health",
    procedure: "health.check",
    tag: "System",
    summary: "Health of the server and its database",
    response: R.ZHealth,
    public: true,
  },
  { method: "GET", path: "/whoami", procedure: "token.whoami", tag: "System", summary: "The calling token's name, role and workspace", response: R.ZWhoami },

  // ── The runner protocol (docs/runner-protocol.md) ──
  {
    method: "POST",
    path: "/runs/claim",
    procedure: "run.claim",
    ...runner(
      "Claim the next queued run (long-poll)",
      "Claims the next eligible run of the workspace (or the run named by `runId`) in one atomic " +
        "statement and returns it with a lease token. With `waitMs` (≤ 25,000) the call waits that " +
        "long and is woken the moment a run is queued; `204` when none came. Runner or admin token.",
    ),
    response: R.ZClaim,
    noContentWhenNull: true,
  },
  {
    method: "POST",
    path: "/runs/{runId}/start",
    procedure: "run.start",
    ...runner("Start a claimed run", "`claimed → running`; repeating it with the same lease is harmless. 409 `LEASE_LOST` with a stale lease token."),
    response: R.ZStarted,
  },
  {
    method: "POST",
    path: "/runs/{runId}/heartbeat",
    procedure: "run.heartbeat",
    ...runner("Extend the lease", "Every ~10 s. When `cancelRequested` is true, stop the agent and complete with `status: cancelled`."),
    response: R.ZLease,
  },
  {
    method: "POST",
    path: "/runs/{runId}/events",
    procedure: "run.appendEvents",
    ...runner(
      "Append events",
      "Up to 500 events per call, 256 KiB per payload; types are lowercase dotted names (`agent.message`, `tool.call`, `command.output`, …).",
    ),
    response: R.ZAppended,
  },
  {
    method: "POST",
    path: "/runs/{runId}/complete",
    procedure: "run.complete",
    ...runner("Complete a run", "`succeeded`, `failed`, or `cancelled` (only after a cancel request), with output and metrics."),
    response: R.ZRun,
  },

  // ── Runs ──
  {
    method: "POST",
    path: "/runs",
    procedure: "run.create",
    ...run("Create a run for a card", "Queues a run: the card's project, the workflow's prompt template and Definition of Done."),
    status: 201,
    response: R.ZRun,
  },
  {
    method: "GET",
    path: "/runs",
    procedure: "run.list",
    ...run(
      "List runs",
      "Newest first. Filter by `status` (repeat the parameter for several), board, card, " +
        "project, `engine`, `createdBy` (the requester as events name it) and `since`; page with `cursor`.",
    ),
    response: R.ZRunPage,
  },
  { method: "GET", path: "/runs/{runId}", procedure: "run.byId", ...run("A run with its Definition-of-Done items, diff and logs"), response: R.ZRunDetail },
  {
    method: "GET",
    path: "/runs/{runId}/events",
    procedure: "run.events",
    ...run(
      "A run's events, or its live event stream",
      "As JSON: a page of events after `afterSeq`. With `Accept: text/event-stream`: server-sent " +
        "events, one per run event (`id:` its sequence number, `event:` its type, `data:` the " +
        "event as JSON), backfilled from the start or after `Last-Event-ID` (or `afterSeq`), then " +
        "live; a comment line every 10 s keeps idle connections open.",
    ),
    response: R.ZRunEvent.array(),
    eventStream: true,
  },
  {
    method: "POST",
    path: "/runs/{runId}/cancel",
    procedure: "run.cancel",
    ...run(
      "Cancel a run",
      "A queued run is cancelled at once; a claimed or running one gets a cancel request its runner sees within a second. 409 `NOT_CANCELLABLE` when finished.",
    ),
    response: R.ZRun,
  },
  {
    method: "GET",
    path: "/runs/{runId}/mergeability",
    procedure: "run.mergeability",
    ...run("Whether the run can be merged, and every reason it cannot"),
    response: R.ZObject("Mergeability", "`canMerge` and the reasons `merge` would give."),
  },
  {
    method: "POST",
    path: "/runs/{runId}/merge",
    procedure: "run.merge",
    ...run(
      "Merge a succeeded run into its base branch (admin)",
      "Gated on every required DoD item having validated evidence (409 `DOD_INCOMPLETE` with " +
        "`details.missing`); `--no-ff`; 409 `MERGE_CONFLICT` with `details.files` changes nothing. " +
        'With `reverify: true` the answer is at once `status: "verifying"` and a `verification` ' +
        "request a runner re-verifies; the merge finishes (or is refused, the reason on the " +
        "request) when it reports — follow it with `GET /runs/{runId}/mergeability`.",
    ),
    response: R.ZObject(
      "MergeResult",
      '`status: "merged"` with the merged run and the merge commit, or `status: "verifying"` with the re-verification request.',
    ),
  },
  {
    method: "POST",
    path: "/runs/{runId}/abort",
    procedure: "run.abort",
    ...run("Abort a run: stop its agent, remove its worktree, delete its branch"),
    response: R.ZObject("AbortResult", "The aborted run and what was cleaned up."),
  },
  {
    method: "GET",
    path: "/runs/{runId}/provenance",
    procedure: "run.provenance",
    ...run("Prompt, engine, model, diff hash, cost, and who created, merged or rejected the run"),
    response: R.ZObject("Provenance", "The run's provenance record."),
  },

  // ── Evidence ──
  {
    method: "POST",
    path: "/runs/{runId}/evidence",
    procedure: "dod.addEvidence",
    tag: "Evidence",
    summary: "Add evidence to a DoD item",
    description:
      "Give exactly one of `itemId` and `itemKey`; an unknown `itemKey` creates the item (with " +
      "`itemTitle`). Kinds: `text`, `url`, `file` (base64 or text content), `check`.",
    status: 201,
    response: R.ZObject("EvidenceAdded", "The evidence and its item."),
  },
  {
    method: "POST",
    path: "/evidence/{evidenceId}/validate",
    procedure: "dod.validate",
    tag: "Evidence",
    summary: "Validate evidence",
    response: R.ZObject("EvidenceValidated", "The validated evidence and its item."),
  },
  {
    method: "POST",
    path: "/evidence/{evidenceId}/reject",
    procedure: "dod.reject",
    tag: "Evidence",
    summary: "Reject evidence with a reason",
    response: R.ZObject("EvidenceRejected", "The rejected evidence and its item."),
  },
  {
    method: "GET",
    path: "/evidence/{evidenceId}/file",
    procedure: "dod.file",
    tag: "Evidence",
    summary: "The bytes of a file evidence (base64)",
    response: R.ZObject("EvidenceFile", "`name`, `size` and `contentBase64`."),
  },

  // ── Workspaces, boards, cards ──
  {
    method: "GET",
    path: "/workspaces",
    procedure: "workspace.list",
    tag: "Workspaces",
    summary: "The workspaces this token can see",
    response: R.ZWorkspace.array(),
  },
  {
    method: "POST",
    path: "/workspaces",
    procedure: "workspace.create",
    tag: "Workspaces",
    summary: "Create a workspace (the server's admin token)",
    status: 201,
    response: R.ZWorkspace,
  },
  { method: "GET", path: "/workspaces/{workspaceId}", procedure: "workspace.byId", tag: "Workspaces", summary: "A workspace", response: R.ZWorkspace },
  {
    method: "GET",
    path: "/workspaces/{workspaceId}/boards",
    procedure: "board.list",
    tag: "Boards",
    summary: "The workspace's boards",
    response: R.ZBoard.array(),
  },
  {
    method: "POST",
    path: "/workspaces/{workspaceId}/boards",
    procedure: "board.create",
    tag: "Boards",
    summary: "Create a board",
    status: 201,
    response: R.ZBoard,
  },
  { method: "GET", path: "/boards/{boardId}", procedure: "board.byId", tag: "Boards", summary: "A board", response: R.ZBoard },
  { method: "GET", path: "/boards/{boardId}/cards", procedure: "card.list", tag: "Cards", summary: "The board's cards", response: R.ZCard.array() },
  { method: "POST", path: "/boards/{boardId}/cards", procedure: "card.create", tag: "Cards", summary: "Create a card", status: 201, response: R.ZCard },
  { method: "GET", path: "/cards/{cardId}", procedure: "card.byId", tag: "Cards", summary: "A card with its runs", response: R.ZCard },
  {
    method: "PATCH",
    path: "/cards/{cardId}",
    procedure: "card.update",
    tag: "Cards",
    summary: "Edit a card's title, description or labels",
    response: R.ZCard,
  },
  {
    method: "POST",
    path: "/cards/{cardId}/move",
    procedure: "card.move",
    tag: "Cards",
    summary: "Move a card to a column, between two cards",
    response: R.ZCard,
  },
  {
    method: "DELETE",
    path: "/cards/{cardId}",
    procedure: "card.delete",
    tag: "Cards",
    summary: "Delete a card",
    response: R.ZObject("CardDeleted", "The deleted card's id."),
  },

  // ── Projects, workflows, worktrees ──
  {
    method: "GET",
    path: "/workspaces/{workspaceId}/projects",
    procedure: "project.list",
    tag: "Projects",
    summary: "The workspace's projects",
    response: R.ZProject.array(),
  },
  {
    method: "POST",
    path: "/workspaces/{workspaceId}/projects",
    procedure: "project.create",
    tag: "Projects",
    summary: "Create a project (admin)",
    status: 201,
    response: R.ZProject,
  },
  { method: "GET", path: "/projects/{projectId}", procedure: "project.byId", tag: "Projects", summary: "A project", response: R.ZProject },
  { method: "PATCH", path: "/projects/{projectId}", procedure: "project.update", tag: "Projects", summary: "Edit a project (admin)", response: R.ZProject },
  {
    method: "GET",
    path: "/workspaces/{workspaceId}/workflows",
    procedure: "workflow.list",
    tag: "Workflows",
    summary: "The workspace's workflows, the default first",
    response: R.ZWorkflow.array(),
  },
  {
    method: "POST",
    path: "/workspaces/{workspaceId}/workflows",
    procedure: "workflow.create",
    tag: "Workflows",
    summary: "Create a workflow (admin)",
    status: 201,
    response: R.ZWorkflow,
  },
  { method: "GET", path: "/workflows/{workflowId}", procedure: "workflow.byId", tag: "Workflows", summary: "A workflow", response: R.ZWorkflow },
  {
    method: "PATCH",
    path: "/workflows/{workflowId}",
    procedure: "workflow.update",
    tag: "Workflows",
    summary: "Edit a workflow (admin)",
    response: R.ZWorkflow,
  },
  {
    method: "GET",
    path: "/workspaces/{workspaceId}/agent-profiles",
    procedure: "agentProfile.list",
    tag: "Agent profiles",
    summary: "The workspace's ACP agent profiles",
    response: R.ZAgentProfile.array(),
  },
  {
    method: "POST",
    path: "/workspaces/{workspaceId}/agent-profiles",
    procedure: "agentProfile.create",
    tag: "Agent profiles",
    summary: "Create an agent profile (admin)",
    description:
      "A named ACP agent: the program a runner starts for runs of engine `acp` that name it, its " +
      "arguments, extra environment, and how its permission requests are answered.",
    status: 201,
    response: R.ZAgentProfile,
  },
  {
    method: "GET",
    path: "/agent-profiles/{profileId}",
    procedure: "agentProfile.byId",
    tag: "Agent profiles",
    summary: "An agent profile",
    response: R.ZAgentProfile,
  },
  {
    method: "PATCH",
    path: "/agent-profiles/{profileId}",
    procedure: "agentProfile.update",
    tag: "Agent profiles",
    summary: "Edit an agent profile (admin); runs already created keep their copy",
    response: R.ZAgentProfile,
  },
  {
    method: "DELETE",
    path: "/agent-profiles/{profileId}",
    procedure: "agentProfile.delete",
    tag: "Agent profiles",
    summary: "Delete an agent profile (admin)",
    response: R.ZObject("AgentProfileDeleted", "The deleted profile's id."),
  },
  {
    method: "GET",
    path: "/workspaces/{workspaceId}/worktrees",
    procedure: "worktree.list",
    tag: "Worktrees",
    summary: "Every worktree of the workspace's runs",
    response: R.ZObject("WorktreeEntry", "A worktree with its run, card, state and size.").array(),
  },
  {
    method: "DELETE",
    path: "/worktrees/{worktreeId}",
    procedure: "worktree.remove",
    tag: "Worktrees",
    summary: "Remove a finished run's worktree (admin; the branch stays)",
    description: "409 `RUN_ACTIVE` while the run is claimed or running.",
    response: R.ZObject("WorktreeRemoved", "The worktree record, now removed."),
  },
];
