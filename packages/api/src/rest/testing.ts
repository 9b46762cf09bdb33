import { ZRestError } from "./responses.js";
import { restRoutes, type RestRoute } from "./routes.js";

/**
 * A REST client for tests. Operations are named as the document names them,
 * `"POST /runs/{runId}/cancel"`: the name must be a route of the table (so a test cannot
 * exercise a path the document lacks), and `rest.test-coverage.test.ts` checks that every
 * route's name appears in a test. Each answer is checked against the schema documented for
 * it — success or error — so the document cannot drift from what the server sends.
 */
export type Operation = `${RestRoute["method"]} ${string}`;

export interface RestAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string | number | boolean | (string | number)[]>;
  body?: unknown;
  /** Raw body text instead of `body` (bad JSON, wrong types). */
  rawBody?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

export function routeOf(op: Operation): RestRoute {
  const [method, path] = op.split(" ") as [string, string];
  const route = restRoutes.find((r) => r.method === method && r.path === path);
  if (!route) throw new Error(`${op} is not a documented operation`);
  return route;
}

export function restClient(baseUrl: string, defaultToken: string | null) {
  return async function call<T = unknown>(op: Operation, opts: CallOptions = {}): Promise<RestAnswer<T>> {
    const route = routeOf(op);
    let path = route.path.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
      const value = opts.params?.[name];
      if (value === undefined) throw new Error(`${op}: missing path parameter ${name}`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) for (const one of Array.isArray(v) ? v : [v]) search.append(k, String(one));
    if (search.size) path += `?${search}`;
    const token = opts.token === undefined ? defaultToken : opts.token;
    const text = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const res = await fetch(`${baseUrl}/api/v1${path}`, {
      method: route.method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(text !== undefined ? { "content-type": "application/json" } : {}),
        ...opts.headers,
      },
      body: text,
    });
    const raw = await res.text();
    const body = raw === "" ? null : (JSON.parse(raw) as unknown);
    if (res.status === 204) {
      if (!route.noContentWhenNull) throw new Error(`${op} answered 204, which it does not document`);
    } else if (res.status === (route.status ?? 200)) {
      const checked = route.response.safeParse(body);
      if (!checked.success) throw new Error(`${op} answered a body that does not match its documented schema: ${checked.error.message}`);
    } else {
      const checked = ZRestError.safeParse(body);
      if (!checked.success) throw new Error(`${op} answered ${res.status} with a body that is not the documented error: ${raw.slice(0, 500)}`);
    }
    return { status: res.status, body: body as T, headers: res.headers };
  };
}

export type RestCall = ReturnType<typeof restClient>;
