import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenApi } from "@agentboard/api";
import { seedBoard, startTestApi, type TestApi } from "@agentboard/api/testing";
import { createAgentboardClient, type AgentboardClient, type RouterOutputs } from "@agentboard/client";

/**
 * The Python runner (standard library only) against a real server: it claims over REST with
 * a long-poll, starts, heartbeats, streams the command's output and completes; a tRPC client
 * following the board and the run sees every step live.
 */
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "runner.py");

type Step = { step: string; run?: string; status?: string; cancelRequested?: boolean };
type RunEvent = RouterOutputs["run"]["events"][number];

function startPythonRunner(server: string, token: string, workspaceId: string) {
  const child: ChildProcess = spawn("python3", [script, "--workspace", workspaceId, "--once", "--wait-ms", "20000", "--heartbeat-s", "0.2"], {
    env: { ...process.env, AGENTBOARD_SERVER: server, AGENTBOARD_TOKEN: token },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const steps: Step[] = [];
  const waiters: { match: (s: Step) => boolean; resolve: () => void }[] = [];
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const step = JSON.parse(line) as Step;
    steps.push(step);
    for (const w of waiters.filter((w) => w.match(step))) w.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    steps,
    exited,
    stderr: () => stderr,
    until: (match: (s: Step) => boolean) => (steps.some(match) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ match, resolve }))),
    kill: () => child.kill("SIGKILL"),
  };
}

/** Every event of a run as a tRPC subscriber receives it, until the run's terminal event. */
function followRun(client: AgentboardClient, runId: string) {
  const events: RunEvent[] = [];
  const done = new Promise<RunEvent[]>((resolve, reject) => {
    const sub = client.run.onEvents.subscribe(
      { runId, lastEventId: null },
      {
        onData({ data }) {
          events.push(data);
          if (["run.succeeded", "run.failed", "run.cancelled"].includes(data.type)) {
            sub.unsubscribe();
            resolve(events);
          }
        },
        onError: reject,
      },
    );
  });
  return { events, done };
}

describe("the Python REST runner", () => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;
  let client: AgentboardClient;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runnerToken: string;
  const children: { kill(): void }[] = [];

  beforeAll(async () => {
    api = await startTestApi("sqlite");
    http = await listenApi(api.core);
    client = createAgentboardClient({ url: http.url, token: api.adminToken });
    seed = await seedBoard(api, "python");
    runnerToken = (await api.withToken("runner", seed.workspace.id, "python-runner")).token;
  });
  afterAll(async () => {
    for (const c of children) c.kill();
    await http.close();
    await api.close();
  });

  it("claims a run over REST, heartbeats, streams events and completes it; the board shows it live", async () => {
    const { lastEventId } = await client.board.cursor.query({ boardId: seed.board.id });
    const boardChanges: { type: string; runId: string }[] = [];
    const boardSaw = new Promise<void>((resolve, reject) => {
      const sub = client.board.onChanges.subscribe(
        { boardId: seed.board.id, lastEventId },
        {
          onData(change) {
            // Card edits come as untracked `{ kind: "cards" }` signals; run events are tracked.
            if (!("data" in change)) return;
            const data = change.data;
            // With a cursor the stream starts with no snapshot, only run changes.
            if (data.kind !== "run") return;
            boardChanges.push({ type: data.type, runId: data.runId });
            if (data.type === "run.succeeded") {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });

    const py = startPythonRunner(http.url, runnerToken, seed.workspace.id);
    children.push(py);
    await py.until((s) => s.step === "ready");
    const run = await client.run.create.mutate({ cardId: seed.card.id, engine: "command", command: "echo one; sleep 1; echo two" });
    const live = followRun(client, run.id);

    const events = await live.done;
    expect(await py.exited, py.stderr()).toBe(0);
    await boardSaw;

    expect(events.map((e) => e.type)).toEqual(["run.queued", "run.claimed", "run.started", "command.output", "command.output", "run.succeeded"]);
    expect(events.filter((e) => e.type === "command.output").map((e) => (e.payload as { text: string }).text)).toEqual(["one\n", "two\n"]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(boardChanges.filter((c) => c.runId === run.id).map((c) => c.type)).toEqual([
      "run.queued",
      "run.claimed",
      "run.started",
      "command.output",
      "command.output",
      "run.succeeded",
    ]);

    const steps = py.steps.map((s) => s.step);
    expect(steps[0]).toBe("ready");
    expect(steps.slice(1, 3)).toEqual(["claimed", "started"]);
    expect(steps.filter((s) => s === "heartbeat").length).toBeGreaterThanOrEqual(1);
    expect(steps.at(-1)).toBe("completed");
    const final = await client.run.byId.query({ runId: run.id });
    expect(final).toMatchObject({ status: "succeeded", summary: "exit code 0", logs: "one\ntwo\n" });
    expect(final.runner?.name).toBeTruthy();
  });

  it("stops the command when the run is cancelled and completes it as cancelled", async () => {
    const py = startPythonRunner(http.url, runnerToken, seed.workspace.id);
    children.push(py);
    await py.until((s) => s.step === "ready");
    const card = await client.card.create.mutate({ boardId: seed.board.id, projectId: seed.project.id, title: "Slow" });
    const run = await client.run.create.mutate({ cardId: card.id, engine: "command", command: "echo started; sleep 60" });
    const live = followRun(client, run.id);
    await py.until((s) => s.step === "events" && s.run === run.id);
    await client.run.cancel.mutate({ runId: run.id, reason: "not needed" });
    const events = await live.done;
    expect(await py.exited, py.stderr()).toBe(0);
    expect(events.map((e) => e.type)).toEqual(["run.queued", "run.claimed", "run.started", "command.output", "run.cancel_requested", "run.cancelled"]);
    expect(py.steps.some((s) => s.step === "heartbeat" && s.cancelRequested === true)).toBe(true);
    expect((await client.run.byId.query({ runId: run.id })).status).toBe("cancelled");
  });
});
