import { z } from "zod";
import type { AgentSpec } from "../types.js";

const ZAgentSpec = z.object({
  name: z.string(),
  command: z.string().min(1),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  permissions: z.enum(["allow", "deny"]),
});

/** The run's copy of its agent profile as the claim carries it (JSON), or null without one. */
export function agentSpecOf(value: unknown): AgentSpec | null {
  if (value === null || value === undefined) return null;
  const parsed = ZAgentSpec.safeParse(value);
  return parsed.success ? parsed.data : null;
}
