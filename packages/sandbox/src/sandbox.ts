/**
 * Starting, confining and stopping every process a run starts.
 *
 * A `SandboxHost` is made once per runner: it checks that bubblewrap works here, which
 * limits can be enforced, and prepares the sandbox's synthetic /etc. Each run opens a
 * `RunSandbox`: its own HOME, its proxies, its policy. Every process of the run — setup
 * script, hooks, the agent and its tools, tests, checks, the runner's own git commands in
 * the checkout — is started through `RunSandbox.start`, each in a fresh bubblewrap
 * sandbox with a cgroup of its own nested in the run's (which holds the run's limits).
 */
import { execFile } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { bridgeScript, bwrapArgs, EGRESS_PORT, MODEL_PORT, type MountPlan } from "./bwrap.js";
import { sandboxEnv } from "./env.js";
import { nodePrefix, prepareHostLayout, SANDBOX_USER, type HostLayout } from "./host.js";
import { detectCgroups, limitSupport, removeStaleCgroups, SandboxCgroup, starterScript, type CgroupSetup, type LimitHit, type LimitSupport } from "./limits.js";
import type { NetworkMode, Phase, SandboxPolicy } from "./policy.js";
import { spawnGroup, signalGroup, type GroupProcess, type SpawnGroupOptions } from "./process.js";
import { EgressProxy, type EgressDecision } from "./proxy/egress.js";
import { MODEL_PROXY_KEY, ModelProxy } from "./proxy/model.js";

const run = promisify(execFile);

/** What the runner says about its sandbox at start and on the runners page. */
export interface SandboxSupport {
  available: boolean;
  /** Why not, when it is not. */
  reason: string | null;
  limits: LimitSupport;
}

export interface StartOptions extends Omit<SpawnGroupOptions, "cwd" | "env" | "softStop"> {
  /** Inside the checkout; the checkout itself by default. */
  cwd?: string;
  /** Variables added to the sandbox's environment. */
  env?: Readonly<Record<string, string>>;
  /** Host directories the program needs, bound read-only (an npm package's install). */
  readOnly?: readonly string[];
  /** The process talks to the model through the runner's model proxy (Claude Code). */
  model?: boolean;
  /**
   * Services of the runner the process may reach: each listens on a unix socket here and
   * appears inside the sandbox at 127.0.0.1:<port> (the same port the service has on the
   * host's loopback, so one URL works confined or not).
   */
  services?: ReadonlyArray<{ name: string; socket: string; port: number }>;
}

/** Starts the processes of one phase of a run: `RunSandbox.start` bound to the phase. */
export interface ProcessStarter {
  /** False when the processes run with the runner's rights (an unconfined project, or no sandbox at all). */
  readonly confined: boolean;
  /**
   * The processes' HOME on the host and as they see it, when it is a directory of the
   * runner's that outlives them until the run ends (a sandbox's own HOME): what a process
   * writes there, the runner can read after it.
   */
  readonly home?: { host: string; inside: string };
  start(file: string, args: readonly string[], opts: StartOptions): GroupProcess;
}

/**
 * No sandbox: a plain process group with `env` plus the options' variables. What engines
 * fall back to when they are run on their own (their unit tests); a runner always hands
 * them its sandbox's starter.
 */
export function plainStarter(env: Readonly<Record<string, string | undefined>>, model?: { apiKey?: string; baseURL?: string } | null): ProcessStarter {
  return {
    confined: false,
    start(file, args, opts) {
      const extra: Record<string, string> = {};
      if (opts.model && model?.apiKey) extra.ANTHROPIC_API_KEY = model.apiKey;
      if (opts.model && model?.baseURL) extra.ANTHROPIC_BASE_URL = model.baseURL;
      return spawnGroup(file, args, { ...opts, cwd: opts.cwd ?? process.cwd(), env: { ...env, ...extra, ...opts.env } });
    },
  };
}

function findProgram(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? "/usr/bin:/bin").split(":").filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return null;
}

export interface SandboxHostOptions {
  /** Runner-owned directory for the sandbox's /etc, the runs' homes and project caches. */
  stateDir: string;
  /** Where to look for bwrap and socat (the runner's PATH). */
  pathVar?: string;
}

export class SandboxHost {
  private constructor(
    readonly support: SandboxSupport,
    readonly stateDir: string,
    private readonly layout: HostLayout,
    private readonly cgroups: CgroupSetup,
    private readonly bwrap: string,
    /** Short-pathed directory for proxy sockets (a unix socket path has at most 107 bytes). */
    private readonly socketDir: string,
    private readonly extraPath: string[],
    private readonly extraReadOnly: string[],
  ) {}

  /** Finds bubblewrap and socat, works out the layout, and runs a sandboxed `true` to prove it works. */
  static async create(opts: SandboxHostOptions): Promise<SandboxHost> {
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    const layout = prepareHostLayout(opts.stateDir);
    const cgroups = detectCgroups();
    removeStaleCgroups(cgroups);
    const limits = limitSupport(cgroups);
    const bwrap = findProgram("bwrap", opts.pathVar) ?? "";
    const socat = findProgram("socat", opts.pathVar);
    const socketDir = mkdtempSync(path.join(tmpdir(), "agentboard-sock-"));
    const prefix = nodePrefix(layout.system);
    const host = new SandboxHost(
      { available: false, reason: null, limits },
      opts.stateDir,
      layout,
      cgroups,
      bwrap,
      socketDir,
      prefix ? [path.join(prefix, "bin")] : [],
      prefix ? [prefix] : [],
    );
    let reason: string | null = null;
    if (!bwrap) reason = "bubblewrap (bwrap) is not installed: apt-get install bubblewrap";
    else if (!socat) reason = "socat is not installed (the sandbox's network bridge): apt-get install socat";
    else reason = await host.selfTest();
    host.support.available = reason === null;
    host.support.reason = reason;
    return host;
  }

  private async selfTest(): Promise<string | null> {
    const dir = mkdtempSync(path.join(this.stateDir, "probe-"));
    try {
      mkdirSync(path.join(dir, "home"));
      mkdirSync(path.join(dir, "work"));
      const plan: MountPlan = { layout: this.layout, home: path.join(dir, "home"), checkout: path.join(dir, "work"), readOnly: [] };
      await run(this.bwrap, [...bwrapArgs(plan), "--", "/bin/true"], {
        timeout: 10_000,
        env: { PATH: "/usr/bin:/bin" } as Record<string, string> as NodeJS.ProcessEnv,
      });
      return null;
    } catch (err) {
      const e = err as { stderr?: string; message?: string };
      return `bubblewrap does not work here: ${(e.stderr || e.message || String(err)).trim().slice(0, 500)}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Opens the sandbox of one run; `close()` it when the run is over. */
  openRun(input: RunSandboxInput): RunSandbox {
    return new RunSandbox(this, input);
  }

  /** @internal */ get internals() {
    return {
      layout: this.layout,
      cgroups: this.cgroups,
      bwrap: this.bwrap,
      socketDir: this.socketDir,
      extraPath: this.extraPath,
      extraReadOnly: this.extraReadOnly,
    };
  }

  async close(): Promise<void> {
    rmSync(this.socketDir, { recursive: true, force: true });
  }
}

export interface RunSandboxInput {
  runId: string;
  projectId: string;
  /** The run's checkout (read-write). */
  checkout: string;
  /** Host paths every process of the run may read (the source repository's object store). */
  readOnly: readonly string[];
  policy: SandboxPolicy;
  /** The runner's environment, for the locale and the project's declared secrets. */
  source: Readonly<Record<string, string | undefined>>;
  /** Run facts given to every process (AGENTBOARD_RUN_ID…). */
  facts: Readonly<Record<string, string>>;
  /** The model endpoint and key the model proxy forwards to. */
  model?: { baseURL: string; apiKey: string } | null;
  /** A process ran into a limit; it has been stopped. */
  onLimit?(hit: LimitHit, phase: Phase | "collect"): void;
  /** The egress proxy refused (or allowed) a connection. */
  onNetwork?(d: EgressDecision, phase: Phase | "collect"): void;
}

/** A description of the run's sandbox, for the `sandbox.started` event. */
export interface SandboxDescription {
  confined: boolean;
  user: string | null;
  network: Record<Phase, NetworkMode>;
  allowlist: string[];
  limits: Record<string, { value: number | null; enforcedBy: string }>;
  cache: boolean;
  secrets: string[];
}

const DEFAULT_MODEL_URL = "https://api.anthropic.com";

export class RunSandbox {
  readonly home: string;
  readonly confined: boolean;
  private readonly cacheDir: string | null;
  private egress: EgressProxy | null = null;
  private model: ModelProxy | null = null;
  private phase: Phase | "collect" = "setup";
  private cgroup: SandboxCgroup | null = null;
  private closed = false;
  private readonly live = new Set<{ proc: GroupProcess; settled: Promise<unknown> }>();

  constructor(
    private readonly host: SandboxHost,
    private readonly input: RunSandboxInput,
  ) {
    this.confined = !input.policy.unconfined;
    const runDir = path.join(host.stateDir, "runs", input.runId);
    rmSync(runDir, { recursive: true, force: true });
    this.home = path.join(runDir, "home");
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    this.cacheDir = input.policy.cache ? path.join(host.stateDir, "cache", input.projectId) : null;
    if (this.cacheDir) mkdirSync(this.cacheDir, { recursive: true, mode: 0o700 });
  }

  describe(): SandboxDescription {
    const { policy } = this.input;
    const l = this.host.support.limits;
    const confined = this.confined;
    return {
      confined,
      user: confined ? SANDBOX_USER.name : null,
      network: policy.network,
      allowlist: policy.allowlist,
      limits: {
        processes: { value: confined && l.processes !== "none" ? policy.limits.processes : null, enforcedBy: confined ? l.processes : "none" },
        memoryMb: { value: confined && l.memory !== "none" ? policy.limits.memoryMb : null, enforcedBy: confined ? l.memory : "none" },
        fileSizeMb: { value: confined ? policy.limits.fileSizeMb : null, enforcedBy: confined ? l.fileSize : "none" },
        openFiles: { value: confined ? policy.limits.openFiles : null, enforcedBy: confined ? l.openFiles : "none" },
        wallTime: { value: null, enforcedBy: l.wallTime },
      },
      cache: this.cacheDir !== null,
      secrets: policy.secrets.filter((s) => this.input.source[s] !== undefined),
    };
  }

  /** The process starter of one phase. */
  starter(phase: Phase | "collect", extraFacts: Readonly<Record<string, string>> = {}): ProcessStarter {
    return {
      confined: this.confined,
      home: { host: this.home, inside: this.confined ? SANDBOX_USER.home : this.home },
      start: (file, args, opts) => this.start(phase, file, args, { ...opts, env: { ...extraFacts, ...opts.env } }),
    };
  }

  private networkOf(phase: Phase | "collect"): NetworkMode {
    return phase === "collect" ? "off" : this.input.policy.network[phase];
  }

  /** The environment a process of this phase gets (before `opts.env`). */
  environment(phase: Phase | "collect"): Record<string, string> {
    const confined = this.confined;
    const { internals } = this.host;
    return sandboxEnv({
      source: this.input.source,
      home: confined ? SANDBOX_USER.home : this.home,
      user: confined ? SANDBOX_USER.name : (this.input.source.USER ?? "agent"),
      pathDirs: internals.extraPath,
      secrets: this.input.policy.secrets,
      facts: this.input.facts,
      egress: confined && this.networkOf(phase) !== "off",
      cacheDir: this.cacheDir ? (confined ? "/cache" : this.cacheDir) : null,
    });
  }

  start(phase: Phase | "collect", file: string, args: readonly string[], opts: StartOptions): GroupProcess {
    if (this.closed) throw new Error("the run's sandbox is closed");
    this.phase = phase;
    const env = { ...this.environment(phase), ...opts.env };
    const model = this.input.model;
    if (!this.confined) {
      if (opts.model && model) Object.assign(env, { ANTHROPIC_API_KEY: model.apiKey, ANTHROPIC_BASE_URL: model.baseURL });
      return this.track(spawnGroup(file, args, { ...opts, cwd: opts.cwd ?? this.input.checkout, env }));
    }
    return this.track(this.startConfined(phase, file, args, opts, env));
  }

  private startConfined(phase: Phase | "collect", file: string, args: readonly string[], opts: StartOptions, env: Record<string, string>): GroupProcess {
    const { internals } = this.host;
    const { policy } = this.input;
    const sockets: Array<{ host: string; name: string }> = [];
    const bridges: Array<{ name: string; port: number }> = [];
    const mode = this.networkOf(phase);
    if (mode !== "off") {
      const egress = this.ensureEgress();
      egress.rules = { mode, allowlist: policy.allowlist };
      sockets.push({ host: this.socketPath("egress"), name: "egress.sock" });
      bridges.push({ name: "egress.sock", port: EGRESS_PORT });
    }
    for (const service of opts.services ?? []) {
      sockets.push({ host: service.socket, name: service.name });
      bridges.push({ name: service.name, port: service.port });
    }
    if (opts.model) {
      this.ensureModel();
      sockets.push({ host: this.socketPath("model"), name: "model.sock" });
      bridges.push({ name: "model.sock", port: MODEL_PORT });
      Object.assign(env, { ANTHROPIC_BASE_URL: `http://127.0.0.1:${MODEL_PORT}`, ANTHROPIC_API_KEY: MODEL_PROXY_KEY });
    }
    const plan: MountPlan = {
      layout: internals.layout,
      home: this.home,
      checkout: this.input.checkout,
      readOnly: [...internals.extraReadOnly, ...this.input.readOnly, ...(opts.readOnly ?? [])],
      cache: this.cacheDir,
      sockets,
      cwd: opts.cwd,
    };
    this.cgroup ??= new SandboxCgroup(internals.cgroups, `agentboard-${this.input.runId}-${process.pid}`, policy.limits);
    // A cgroup of the process's own inside the run's: the run's limits count all its
    // processes together, while stopping or waiting for this one touches only what it started.
    const cgroup = this.cgroup.child();
    const inner = bridges.length > 0 ? ["/bin/sh", "-c", bridgeScript(bridges), "sh", file, ...args] : [file, ...args];
    let hit: LimitHit | null = null;
    const proc = spawnGroup(
      "/bin/sh",
      ["-c", starterScript(policy.limits), "sh", ...cgroup.procsFiles, "--", internals.bwrap, ...bwrapArgs(plan), "--", ...inner],
      {
        ...opts,
        cwd: "/",
        env,
        softStop: () => {
          // SIGTERM to everything in this process's sandbox but bubblewrap and its init,
          // which would take the sandbox down at once; the group's SIGKILL follows the grace.
          const leader = proc.pid;
          const init = childrenOf(leader);
          const members = cgroup.members().filter((p) => p !== leader && !init.includes(p));
          if (members.length === 0) signalGroup(leader, "SIGTERM");
          for (const p of members) {
            try {
              process.kill(p, "SIGTERM");
            } catch {
              // Gone already.
            }
          }
        },
      },
    );
    const report = (h: LimitHit) => {
      if (hit) return;
      hit = h;
      this.input.onLimit?.(h, phase);
    };
    const watch = setInterval(() => {
      const h = cgroup.hit();
      if (h) {
        report(h);
        void proc.terminate(0);
      }
    }, 200);
    watch.unref();
    const done = proc.done.then(
      async (exit) => {
        clearInterval(watch);
        const h = cgroup.hit();
        if (h) report(h);
        // 128 + SIGXFSZ: a process wrote past the file size limit.
        else if (exit.code === 153)
          report({ limit: "fileSize", message: `a process exceeded the sandbox's file size limit of ${policy.limits.fileSizeMb} MB` });
        // Done means gone: nothing this process started may still run when the next one starts.
        await cgroup.drained();
        await cgroup.remove();
        return exit;
      },
      async (err: unknown) => {
        clearInterval(watch);
        await cgroup.remove();
        throw err;
      },
    );
    return {
      get pid() {
        return proc.pid;
      },
      child: proc.child,
      done,
      terminate: (g?: number) => proc.terminate(g),
    };
  }

  private track(proc: GroupProcess): GroupProcess {
    const settled = proc.done.catch(() => undefined);
    const entry = { proc, settled };
    this.live.add(entry);
    void settled.then(() => this.live.delete(entry));
    return proc;
  }

  /**
   * Stops every process of the run still running (the run is over, or is being stopped):
   * each is asked to stop and killed after `graceMs`; whatever is left in the run's cgroup
   * after that — a process that got away from its group — is killed.
   */
  async stop(graceMs = 0): Promise<void> {
    await Promise.all([...this.live].map(({ proc, settled }) => Promise.all([proc.terminate(graceMs), settled])));
    await this.cgroup?.kill();
  }

  private socketPath(kind: "egress" | "model"): string {
    return path.join(this.host.internals.socketDir, `${this.input.runId}-${kind}.sock`);
  }

  private ensureEgress(): EgressProxy {
    if (!this.egress) {
      const socketPath = this.socketPath("egress");
      rmSync(socketPath, { force: true });
      this.egress = new EgressProxy({ socketPath, onDecision: (d) => this.input.onNetwork?.(d, this.phase) });
      listenSync(this.egress);
    }
    return this.egress;
  }

  private ensureModel(): ModelProxy {
    if (!this.model) {
      const socketPath = this.socketPath("model");
      rmSync(socketPath, { force: true });
      const m = this.input.model;
      this.model = new ModelProxy({ socketPath, baseURL: m?.baseURL ?? DEFAULT_MODEL_URL, apiKey: m?.apiKey ?? "" });
      listenSync(this.model);
    }
    return this.model;
  }

  /**
   * Ends the run's sandbox: stops what still runs (`stop`, after `graceMs`), stops the
   * proxies, removes the run's cgroups and HOME.
   */
  async close(graceMs = 0): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop(graceMs);
    await Promise.all([this.egress?.close(), this.model?.close(), this.cgroup?.remove()]);
    for (const kind of ["egress", "model"] as const) rmSync(this.socketPath(kind), { force: true });
    rmSync(path.dirname(this.home), { recursive: true, force: true });
  }
}

/** A server started now; it listens before the sandbox's first connection can arrive. */
function listenSync(server: { listen(): Promise<void> }): void {
  // listen() on a unix socket binds synchronously in libuv; the promise only reports it.
  server.listen().catch(() => undefined);
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
