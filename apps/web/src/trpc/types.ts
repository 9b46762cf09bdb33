import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@agentboard/api";

/** Everything the board shows is typed from the router, which is typed from the schema. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

export type CardRow = RouterOutputs["card"]["list"][number];
export type CardColumn = CardRow["column"];
export type RunStatus = RouterOutputs["run"]["byId"]["status"];
export type RunDetail = RouterOutputs["run"]["byId"];
export type RunEventRow = RouterOutputs["run"]["events"][number];
export type Engine = RouterOutputs["run"]["byId"]["engine"];
export type Role = RouterOutputs["token"]["whoami"]["role"];
export type Workspace = RouterOutputs["workspace"]["list"][number];
export type RunnerRow = RouterOutputs["runner"]["list"][number];
export type WorktreeRow = RouterOutputs["worktree"]["list"][number];
export type Workflow = RouterOutputs["workflow"]["list"][number];
export type Project = RouterOutputs["project"]["list"][number];
export type DodItem = RunDetail["dodItems"][number];
export type DodEvidence = DodItem["evidence"][number];
export type Mergeability = RouterOutputs["run"]["mergeability"];
export type Provenance = RouterOutputs["run"]["provenance"];
