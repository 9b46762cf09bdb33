import { parseArgs } from "node:util";
import type { z } from "zod";
import { cancel, claim, list, show, ZClaimArgs, ZListArgs, ZRunArgs } from "./commands.js";
import { failure, type Outcome } from "./output.js";

export { claim, cancel, list, show };
export type { Outcome };

const USAGE = `usage: agentboard <command> [flags]   (all output is one JSON document)

  claim  --workspace ID [--run-id ID] [--claimed-by NAME] [--labels a,b] [--wait-ms N] [--journal FILE]
  show   --run-id ID
  cancel --run-id ID [--reason TEXT]
  list   --workspace ID [--status STATUS] [--limit N]
  mcp    an MCP server on stdin/stdout whose tools act with the token (docs/mcp.md)

  --server URL (or AGENTBOARD_SERVER, default http://127.0.0.1:3000)
  --token TOKEN (or AGENTBOARD_TOKEN)`;

/** Parses argv, validates it with zod, runs the command. Never throws. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  const [command, ...rest] = argv;
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: rest,
      strict: true,
      options: {
        server: { type: "string" },
        token: { type: "string" },
        workspace: { type: "string" },
        "run-id": { type: "string" },
        "claimed-by": { type: "string" },
        labels: { type: "string" },
        "wait-ms": { type: "string" },
        journal: { type: "string" },
        reason: { type: "string" },
        status: { type: "string" },
        limit: { type: "string" },
      },
    }).values as Record<string, string | undefined>;
  } catch (err) {
    return failure("BAD_REQUEST", (err as Error).message);
  }
  const common = { server: values.server ?? env.AGENTBOARD_SERVER ?? "http://127.0.0.1:3000", token: values.token ?? env.AGENTBOARD_TOKEN ?? "" };
  const parse = <S extends z.ZodType>(schema: S, input: unknown): z.infer<S> | Outcome => {
    const r = schema.safeParse(input);
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    return failure("BAD_REQUEST", issue.message, issue.path.join("."));
  };
  const isOutcome = (v: unknown): v is Outcome => typeof v === "object" && v !== null && "ok" in v;

  switch (command) {
    case "claim": {
      const args = parse(ZClaimArgs, {
        ...common,
        workspace: values.workspace,
        runId: values["run-id"],
        claimedBy: values["claimed-by"],
        labels: values.labels ? values.labels.split(",").filter(Boolean) : [],
        waitMs: values["wait-ms"],
        journal: values.journal,
      });
      return isOutcome(args) ? args : claim(args);
    }
    case "show": {
      const args = parse(ZRunArgs, { ...common, runId: values["run-id"] });
      return isOutcome(args) ? args : show(args);
    }
    case "cancel": {
      const args = parse(ZRunArgs, { ...common, runId: values["run-id"], reason: values.reason });
      return isOutcome(args) ? args : cancel(args);
    }
    case "list": {
      const args = parse(ZListArgs, { ...common, workspace: values.workspace, status: values.status, limit: values.limit });
      return isOutcome(args) ? args : list(args);
    }
    default:
      return failure("BAD_REQUEST", command ? `unknown command "${command}"\n${USAGE}` : USAGE, "command");
  }
}
