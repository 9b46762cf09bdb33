/**
 * The egress proxy: the only way out of a sandbox. An HTTP proxy (CONNECT for TLS and
 * any TCP, absolute-URI requests for plain HTTP) on a unix socket that the runner binds
 * into the sandbox. Each request's host is checked against the phase's mode and the
 * project's allowlist, then resolved here, and the connection goes to the very address
 * that was checked (so a second lookup cannot point it elsewhere). Loopback, private and
 * link-local destinations are refused unless an allowlist entry names that host exactly:
 * the runner's machine may serve things there that trust local callers (PostgreSQL with
 * trust authentication, the agentboard server itself).
 */
import { lookup } from "node:dns/promises";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { connect, isIP, type Socket } from "node:net";
import { entryHost, isPrivateAddress, type NetworkMode } from "../policy.js";

export interface EgressRules {
  mode: Exclude<NetworkMode, "off">;
  allowlist: readonly string[];
}

export interface EgressDecision {
  host: string;
  port: number;
  allowed: boolean;
  /** Why it was refused, or the address it went to. */
  detail: string;
}

type Resolver = (host: string) => Promise<string[]>;

const defaultResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

function entryPort(entry: string): number | null {
  const m = /:(\d+)$/.exec(entry.startsWith("[") ? entry.slice(entry.indexOf("]") + 1) : entry);
  return m ? Number(m[1]) : null;
}

/** The allowlist entry that covers host:port (exact entries first), or null. */
export function matchEntry(allowlist: readonly string[], host: string, port: number): { entry: string; exact: boolean } | null {
  const h = host.toLowerCase();
  const portOk = (e: string) => {
    const p = entryPort(e);
    return p === null ? port === 80 || port === 443 : p === port;
  };
  for (const e of allowlist) if (entryHost(e) === h && portOk(e)) return { entry: e, exact: true };
  for (const e of allowlist) {
    const eh = entryHost(e);
    if (eh.startsWith("*.") && h.endsWith(eh.slice(1)) && portOk(e)) return { entry: e, exact: false };
  }
  return null;
}

/** Checks host:port against the rules and resolves it; the address to connect to, or why not. */
export async function decide(rules: EgressRules | null, host: string, port: number, resolve: Resolver = defaultResolver): Promise<EgressDecision> {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  const refuse = (detail: string): EgressDecision => ({ host: h, port, allowed: false, detail });
  if (!rules) return refuse("this phase has no network");
  if (!Number.isInteger(port) || port < 1 || port > 65535) return refuse("invalid port");
  const match = matchEntry(rules.allowlist, h, port);
  if (rules.mode === "allowlist" && !match) return refuse("not on the project's allowlist");
  let addresses: string[];
  try {
    addresses = isIP(h) ? [h] : await resolve(h);
  } catch {
    return refuse("the name does not resolve");
  }
  if (addresses.length === 0) return refuse("the name does not resolve");
  const local = addresses.find(isPrivateAddress);
  if (local && !match?.exact) return refuse(`resolves to the local or private address ${local}, which only an exact allowlist entry opens`);
  return { host: h, port, allowed: true, detail: addresses[0] ?? h };
}

// Hop-by-hop headers end at the proxy.
const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export interface EgressProxyOptions {
  socketPath: string;
  onDecision?(d: EgressDecision): void;
  resolve?: Resolver;
}

export class EgressProxy {
  /** The rules of the phase that runs now; null refuses everything. */
  rules: EgressRules | null = null;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: EgressProxyOptions) {
    this.server = createServer((req, res) => void this.forward(req, res));
    this.server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => void this.tunnel(req, client, head));
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.opts.socketPath, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async check(host: string, port: number): Promise<EgressDecision> {
    const d = await decide(this.rules, host, port, this.opts.resolve);
    this.opts.onDecision?.(d);
    return d;
  }

  private async tunnel(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    this.sockets.add(client);
    client.on("error", () => client.destroy());
    const target = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? "");
    if (!target) {
      client.end("HTTP/1.1 400 Bad Request\r\n\r\n");
      return;
    }
    const d = await this.check(target[1] ?? "", Number(target[2]));
    if (!d.allowed) {
      client.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nagentboard sandbox: ${d.host}:${d.port} refused (${d.detail})\n`);
      return;
    }
    const upstream = connect(d.port, d.detail);
    this.sockets.add(upstream);
    upstream.once("close", () => this.sockets.delete(upstream));
    upstream.once("connect", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => {
      if (!client.destroyed) client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
    });
    client.once("close", () => upstream.destroy());
  }

  private async forward(req: IncomingMessage, res: import("node:http").ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "");
      if (url.protocol !== "http:") throw new Error("not http");
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("agentboard sandbox: the proxy takes absolute http:// URLs (use CONNECT for https)\n");
      return;
    }
    const port = url.port ? Number(url.port) : 80;
    const d = await this.check(url.hostname, port);
    if (!d.allowed) {
      res.writeHead(403, { "content-type": "text/plain" }).end(`agentboard sandbox: ${d.host}:${d.port} refused (${d.detail})\n`);
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    const upstream = httpRequest({ host: d.detail, port, method: req.method, path: `${url.pathname}${url.search}`, headers, setHost: false }, (up) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end();
    });
    req.pipe(upstream);
  }
}
