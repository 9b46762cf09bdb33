import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../root.js";

type In = inferRouterInputs<AppRouter>;
type Out = inferRouterOutputs<AppRouter>;

/**
 * How the MCP tools reach the API: a procedure by namespace and name, as the token the
 * server was started with. Over HTTP on the server it is a tRPC caller bound to the
 * request's principal; over stdio (`agentboard mcp`) it is the typed client of a remote
 * server. Either way the procedure authorizes and validates; the tools decide nothing.
 */
export interface McpBackend {
  query<N extends keyof In & keyof Out, P extends keyof In[N] & keyof Out[N]>(ns: N, proc: P, input: In[N][P]): Promise<Out[N][P]>;
  mutate<N extends keyof In & keyof Out, P extends keyof In[N] & keyof Out[N]>(ns: N, proc: P, input: In[N][P]): Promise<Out[N][P]>;
}

type Callable = (input: unknown) => Promise<unknown>;

/** A backend over a server-side caller (`core.callerFor(principal)`). */
export function callerBackend(caller: object): McpBackend {
  const call = (ns: PropertyKey, proc: PropertyKey, input: unknown) => {
    const fn = (caller as Record<PropertyKey, Record<PropertyKey, Callable>>)[ns]?.[proc];
    if (!fn) throw new Error(`no procedure ${String(ns)}.${String(proc)}`);
    return fn(input);
  };
  return {
    query: (ns, proc, input) => call(ns, proc, input) as never,
    mutate: (ns, proc, input) => call(ns, proc, input) as never,
  };
}

/** A backend over the typed tRPC client (`createAgentboardClient`). */
export function clientBackend(client: object): McpBackend {
  const at = (ns: PropertyKey, proc: PropertyKey) => {
    const p = (client as Record<PropertyKey, Record<PropertyKey, { query: Callable; mutate: Callable }>>)[ns]?.[proc];
    if (!p) throw new Error(`no procedure ${String(ns)}.${String(proc)}`);
    return p;
  };
  return {
    query: (ns, proc, input) => at(ns, proc).query(input) as never,
    mutate: (ns, proc, input) => at(ns, proc).mutate(input) as never,
  };
}
