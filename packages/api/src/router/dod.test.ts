import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { EVIDENCE_MAX_BYTES, evidenceDir } from "../services/evidence-files.js";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { failure } from "../testing/failures.js";

/** Workflows, evidence, validation and automatic checks, on every provider. */

/** Every file under `dir`, relative, except the database's own files. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.filter((f) => !/^test\.db/.test(f)).sort();
}

describe.each(testProviders)("workflows and the Definition of Done on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let member: Caller;
  let viewer: Caller;
  let runner: Caller;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    member = await api.as("member", seed.workspace.id, "mia");
    viewer = await api.as("viewer", seed.workspace.id, "vic");
    runner = await api.as("runner", seed.workspace.id, "rig");
  });
  afterAll(() => api.close());

  const newRun = (workflowId?: string) => member.run.create({ cardId: seed.card.id, ...(workflowId ? { workflowId } : {}) });

  describe("workflows", () => {
    it("every workspace has a sensible default workflow, listed first", async () => {
      const list = await viewer.workflow.list({ workspaceId: seed.workspace.id });
      expect(list[0]).toMatchObject({ isDefault: true, name: "Implement card" });
      expect(list[0]!.dod.map((d) => [d.key, d.required])).toEqual([
        ["tests", true],
        ["review", true],
      ]);
      expect(list[0]!.promptTemplate).toContain("{{card.title}}");
    });

    it("create validates the DoD schema with field paths; only admins create or update", async () => {
      const input = { workspaceId: seed.workspace.id, name: "Strict", promptTemplate: "Do {{card.title}}", engine: "command" as const, command: "true" };
      const dup = await failure(
        api.admin.workflow.create({
          ...input,
          dod: [
            { key: "a", title: "A" },
            { key: "a", title: "A again" },
          ],
        }),
      );
      expect(dup).toMatchObject({ code: "BAD_REQUEST", paths: ["dod.1.key"] });
      const badKey = await failure(api.admin.workflow.create({ ...input, dod: [{ key: "../x", title: "X" }] }));
      expect(badKey).toMatchObject({ code: "BAD_REQUEST", paths: ["dod.0.key"] });
      const autoWithoutCheck = await failure(api.admin.workflow.create({ ...input, dod: [{ key: "a", title: "A", autoValidate: true }] }));
      expect(autoWithoutCheck.paths).toEqual(["dod.0.autoValidate"]);
      const noCommand = await failure(api.admin.workflow.create({ ...input, command: undefined, dod: [] }));
      expect(noCommand).toMatchObject({ code: "BAD_REQUEST", details: { field: "command" } });
      expect((await failure(member.workflow.create({ ...input, dod: [] }))).code).toBe("FORBIDDEN");

      const wf = await api.admin.workflow.create({
        ...input,
        dod: [
          { key: "lint", title: "Lint", check: "npm run lint", autoValidate: true },
          { key: "docs", title: "Docs", required: false },
        ],
      });
      expect(wf.dod).toEqual([
        { key: "lint", title: "Lint", required: true, check: "npm run lint", autoValidate: true, carryOver: false },
        { key: "docs", title: "Docs", required: false, check: null, autoValidate: false, carryOver: false },
      ]);
      expect(await viewer.workflow.byId({ workflowId: wf.id })).toMatchObject({ id: wf.id, name: "Strict" });
      expect((await failure(member.workflow.update({ workflowId: wf.id, name: "x" }))).code).toBe("FORBIDDEN");
      const updated = await api.admin.workflow.update({ workflowId: wf.id, name: "Stricter", dod: [{ key: "lint", title: "Lint clean" }] });
      expect(updated).toMatchObject({ name: "Stricter", dod: [{ key: "lint", title: "Lint clean", required: true }] });
    });

    it("one default per workspace; a run copies its DoD from the workflow it was created with", async () => {
      const before = (await api.admin.workflow.list({ workspaceId: seed.workspace.id })).find((w) => w.isDefault)!;
      const wf = await api.admin.workflow.create({
        workspaceId: seed.workspace.id,
        name: "New default",
        promptTemplate: "{{card.title}} in {{project.name}}",
        engine: "command",
        command: "make",
        dod: [{ key: "build", title: "Builds", check: "make", autoValidate: true }],
        isDefault: true,
      });
      const defaults = (await api.admin.workflow.list({ workspaceId: seed.workspace.id })).filter((w) => w.isDefault);
      expect(defaults.map((w) => w.id)).toEqual([wf.id]);
      expect((await failure(api.admin.workflow.update({ workflowId: wf.id, isDefault: false }))).code).toBe("BAD_REQUEST");

      const run = await newRun();
      expect(run.workflowId).toBe(wf.id);
      expect(run.prompt).toBe("Fix the bug in app");
      const detail = await member.run.byId({ runId: run.id });
      expect(detail.dodItems.map((i) => ({ key: i.key, check: i.check, autoValidate: i.autoValidate, status: i.status }))).toEqual([
        { key: "build", check: "make", autoValidate: true, status: "pending" },
      ]);
      // Editing the workflow later does not rewrite the run's contract.
      await api.admin.workflow.update({ workflowId: wf.id, dod: [] });
      expect((await member.run.byId({ runId: run.id })).dodItems).toHaveLength(1);
      await api.admin.workflow.update({ workflowId: before.id, isDefault: true });
    });
  });

  describe("evidence", () => {
    it("text, url and check evidence; an unknown key creates an optional item; events record each", async () => {
      const run = await newRun();
      const text = await member.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "text", payload: { text: "all 42 passed" } });
      expect(text.item).toMatchObject({ key: "tests", status: "done" });
      expect(text.evidence).toMatchObject({ kind: "text", text: "all 42 passed", createdBy: "member:mia", validatedAt: null });

      const url = await member.dod.addEvidence({
        runId: run.id,
        itemKey: "screenshots",
        itemTitle: "Screenshots attached",
        kind: "url",
        payload: { url: "https://ci.example.com/build/7", note: "CI run" },
      });
      expect(url.item).toMatchObject({ key: "screenshots", title: "Screenshots attached", required: false, status: "done" });
      expect(url.evidence).toMatchObject({ url: "https://ci.example.com/build/7", text: "CI run" });

      const check = await member.dod.addEvidence({
        runId: run.id,
        itemKey: "tests",
        kind: "check",
        payload: { command: "npm test", exitCode: 1, durationMs: 900, output: "1 failed" },
      });
      expect(check.item.status).toBe("failed");
      expect(await failure(member.dod.validate({ evidenceId: check.evidence.id }))).toMatchObject({ code: "CONFLICT", reason: "INVALID_STATE" });

      const events = await member.run.events({ runId: run.id });
      expect(events.filter((e) => e.type === "dod.evidence").map((e) => e.payload)).toEqual([
        expect.objectContaining({ itemKey: "tests", kind: "text", createdItem: false }),
        expect.objectContaining({ itemKey: "screenshots", kind: "url", createdItem: true }),
        expect.objectContaining({ itemKey: "tests", kind: "check", itemStatus: "failed" }),
      ]);
      expect(events.filter((e) => e.type === "dod.evidence").every((e) => e.actor === "member:mia")).toBe(true);
    });

    it("refuses bad input with field errors: non-http URLs, both or neither item refs, unknown payload keys", async () => {
      const run = await newRun();
      for (const url of ["javascript:alert(1)", "file:///etc/passwd", "ftp://x/y"]) {
        expect(await failure(member.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "url", payload: { url } }))).toMatchObject({
          code: "BAD_REQUEST",
          paths: ["payload.url"],
        });
      }
      expect((await failure(member.dod.addEvidence({ runId: run.id, kind: "text", payload: { text: "x" } }))).paths).toEqual(["itemKey"]);
      const detail = await member.run.byId({ runId: run.id });
      expect(
        (await failure(member.dod.addEvidence({ runId: run.id, itemId: detail.dodItems[0]!.id, itemKey: "tests", kind: "text", payload: { text: "x" } })))
          .paths,
      ).toEqual(["itemKey"]);
      // A seed-style server-side path is not a thing this API reads.
      const withPath = { text: "x", path: "/etc/passwd" } as unknown as { text: string };
      expect((await failure(member.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "text", payload: withPath }))).code).toBe("BAD_REQUEST");
      expect((await failure(viewer.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "text", payload: { text: "x" } }))).code).toBe("FORBIDDEN");
      expect((await failure(runner.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "text", payload: { text: "x" } }))).code).toBe("FORBIDDEN");
      const other = await api.admin.workspace.create({ name: "Other", slug: `other-${provider}` });
      const outsider = await api.as("admin", other.id);
      expect((await failure(outsider.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "text", payload: { text: "x" } }))).code).toBe("NOT_FOUND");
    });

    it("file evidence is stored under a generated name in the evidence dir; path traversal is refused and writes nothing", async () => {
      const run = await newRun();
      const dataDir = api.db.dir;
      const before = filesUnder(dataDir);
      const attempts = ["../../pwned.txt", "../pwned.txt", "..", "sub/dir.txt", "..\\..\\pwned.txt", "/etc/passwd", "line\nbreak.txt"];
      for (const name of attempts) {
        const f = await failure(member.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "file", payload: { name, content: "owned" } }));
        expect(f.code, name).toBe("BAD_REQUEST");
      }
      const smuggled = { name: "ok.txt", content: "x", path: "../../pwned.txt" } as unknown as { name: string; content: string };
      expect((await failure(member.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "file", payload: smuggled }))).code).toBe("BAD_REQUEST");
      expect(filesUnder(dataDir)).toEqual(before);
      expect(existsSync(path.join(dataDir, "..", "pwned.txt"))).toBe(false);

      const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
      const stored = await member.dod
        .addEvidence({ runId: run.id, itemKey: "tests", kind: "file", payload: { name: "report ../ v2.bin", contentBase64: bytes.toString("base64") } })
        .catch(() => null);
      // A name with ../ inside is still refused: no separators at all.
      expect(stored).toBeNull();
      const ok = await member.dod.addEvidence({
        runId: run.id,
        itemKey: "tests",
        kind: "file",
        payload: { name: "junit report.xml", contentBase64: bytes.toString("base64") },
      });
      expect(ok.evidence).toMatchObject({ kind: "file", text: "junit report.xml", fileSize: 6 });
      expect(ok.evidence.fileName).toMatch(/^ev-[0-9a-f]{32}$/);
      const onDisk = path.join(evidenceDir(dataDir), ok.evidence.fileName!);
      expect(readFileSync(onDisk)).toEqual(bytes);
      const added = filesUnder(dataDir).filter((f) => !before.includes(f));
      expect(added).toEqual([path.join("evidence", ok.evidence.fileName!)]);

      const back = await viewer.dod.file({ evidenceId: ok.evidence.id });
      expect(back).toMatchObject({ name: "junit report.xml", size: 6 });
      expect(Buffer.from(back.contentBase64, "base64")).toEqual(bytes);
      // NUL is never stored: as in every input it becomes U+FFFD (the name is only shown; the file's own name is generated).
      const nul = await member.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "file", payload: { name: "evil\u0000.txt", content: "x" } });
      expect(nul.evidence.text).toBe("evil\ufffd.txt");
      const text = await member.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "file", payload: { name: "notes.md", content: "# Notes\n" } });
      expect(text.evidence.fileSize).toBe(8);
    });

    it("file evidence is size-limited (PAYLOAD_TOO_LARGE) and corrupt base64 is refused", async () => {
      const run = await newRun();
      const dataDir = api.db.dir;
      const before = filesUnder(dataDir);
      const big = await failure(
        member.dod.addEvidence({
          runId: run.id,
          itemKey: "tests",
          kind: "file",
          payload: { name: "big.bin", contentBase64: Buffer.alloc(EVIDENCE_MAX_BYTES + 1).toString("base64") },
        }),
      );
      expect(big).toMatchObject({ code: "PAYLOAD_TOO_LARGE", reason: "PAYLOAD_TOO_LARGE" });
      const corrupt = await failure(
        member.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "file", payload: { name: "c.bin", contentBase64: "not*base64!" } }),
      );
      expect(corrupt).toMatchObject({ code: "BAD_REQUEST", details: { field: "payload.contentBase64" } });
      expect(filesUnder(dataDir)).toEqual(before);
    });

    it("validate records who and when; reject records who and why; the latest decision counts", async () => {
      const run = await newRun();
      const { evidence } = await member.dod.addEvidence({ runId: run.id, itemKey: "review", kind: "text", payload: { text: "looked at the diff" } });
      const validated = await member.dod.validate({ evidenceId: evidence.id });
      expect(validated.evidence).toMatchObject({ validatedBy: "member:mia", rejectedAt: null });
      expect(validated.evidence.validatedAt).toBeInstanceOf(Date);
      expect(validated.item.status).toBe("validated");
      expect((await failure(viewer.dod.validate({ evidenceId: evidence.id }))).code).toBe("FORBIDDEN");

      expect((await failure(member.dod.reject({ evidenceId: evidence.id, reason: "" }))).paths).toEqual(["reason"]);
      const rejected = await api.admin.dod.reject({ evidenceId: evidence.id, reason: "the diff touches the wrong module" });
      expect(rejected.evidence).toMatchObject({ rejectedBy: "admin:bootstrap", rejectReason: "the diff touches the wrong module", validatedAt: null });
      expect(rejected.item.status).toBe("failed");

      const events = await member.run.events({ runId: run.id });
      expect(events.filter((e) => e.type.startsWith("dod.")).map((e) => [e.type, e.actor])).toEqual([
        ["dod.evidence", "member:mia"],
        ["dod.validated", "member:mia"],
        ["dod.rejected", "admin:bootstrap"],
      ]);
      expect(events.at(-1)!.payload).toMatchObject({ reason: "the diff touches the wrong module", itemKey: "review" });
      const provenance = await member.run.provenance({ runId: run.id });
      expect(provenance.evidence).toEqual([
        expect.objectContaining({
          itemKey: "review",
          rejected: expect.objectContaining({ by: "admin:bootstrap", reason: "the diff touches the wrong module" }),
          validated: null,
        }),
      ]);
      expect(provenance).toMatchObject({ prompt: run.prompt, engine: run.engine, createdBy: "member:mia" });
      expect((await failure(member.dod.validate({ evidenceId: "missing" }))).code).toBe("NOT_FOUND");
    });

    it("closed runs take no more evidence or decisions", async () => {
      const run = await newRun();
      const { evidence } = await member.dod.addEvidence({ runId: run.id, itemKey: "review", kind: "text", payload: { text: "x" } });
      await member.run.abort({ runId: run.id });
      expect(await failure(member.dod.addEvidence({ runId: run.id, itemKey: "review", kind: "text", payload: { text: "y" } }))).toMatchObject({
        code: "CONFLICT",
        reason: "INVALID_STATE",
        details: { status: "aborted" },
      });
      expect(await failure(member.dod.validate({ evidenceId: evidence.id }))).toMatchObject({ code: "CONFLICT", reason: "INVALID_STATE" });
    });
  });

  describe("automatic checks reported by the runner", () => {
    it("a passing check validates an autoValidate item; a failing one fails it; only the prescribed command counts; the lease fences it", async () => {
      const wf = await api.admin.workflow.create({
        workspaceId: seed.workspace.id,
        name: "Checks",
        promptTemplate: "{{card.title}}",
        engine: "command",
        command: "true",
        dod: [
          { key: "unit", title: "Unit tests", check: "npm test", autoValidate: true },
          { key: "lint", title: "Lint", check: "npm run lint", autoValidate: true },
          { key: "e2e", title: "E2E", check: "npm run e2e", autoValidate: false },
        ],
      });
      const run = await newRun(wf.id);
      const claim = (await runner.run.claim({ workspaceId: seed.workspace.id, runId: run.id }))!;
      expect(claim.checks.map((c) => c.key)).toEqual(["unit", "lint", "e2e"]);
      await runner.run.start({ runId: run.id, leaseToken: claim.leaseToken });
      const lease = { runId: run.id, leaseToken: claim.leaseToken };
      const byKey = new Map(claim.checks.map((c) => [c.key, c]));

      const unit = await runner.dod.reportCheck({
        ...lease,
        itemId: byKey.get("unit")!.id,
        command: "npm test",
        exitCode: 0,
        durationMs: 1234,
        output: `${"x".repeat(100_000)}\n42 passed\n`,
      });
      expect(unit.autoValidated).toBe(true);
      expect(unit.item.status).toBe("validated");
      expect(unit.evidence).toMatchObject({ kind: "check", command: "npm test", exitCode: 0, durationMs: 1234, validatedBy: "runner:rig" });
      expect(unit.evidence.text!.length).toBe(64 * 1024);
      expect(unit.evidence.text!.endsWith("42 passed\n")).toBe(true);

      const lint = await runner.dod.reportCheck({ ...lease, itemKey: "lint", command: "npm run lint", exitCode: 2, durationMs: 50, output: "2 problems" });
      expect(lint).toMatchObject({ autoValidated: false, item: { status: "failed" } });
      const killed = await runner.dod.reportCheck({ ...lease, itemKey: "lint", command: "npm run lint", exitCode: null, timedOut: true, durationMs: 60_000 });
      expect(killed.item.status).toBe("failed");

      const e2e = await runner.dod.reportCheck({ ...lease, itemKey: "e2e", command: "npm run e2e", exitCode: 0, durationMs: 10 });
      expect(e2e).toMatchObject({ autoValidated: false, item: { status: "done" } });
      // Passing something easier than the prescribed check validates nothing.
      const sneaky = await runner.dod.reportCheck({ ...lease, itemKey: "lint", command: "true", exitCode: 0, durationMs: 1 });
      expect(sneaky).toMatchObject({ autoValidated: false, item: { status: "done" } });

      const events = await member.run.events({ runId: run.id });
      expect(events.filter((e) => e.type === "dod.validated")).toEqual([
        expect.objectContaining({ actor: "runner:rig", payload: expect.objectContaining({ itemKey: "unit", auto: true }) }),
      ]);

      expect(
        await failure(runner.dod.reportCheck({ ...lease, leaseToken: "stale-token", itemKey: "unit", command: "npm test", exitCode: 0, durationMs: 1 })),
      ).toMatchObject({ reason: "LEASE_LOST" });
      expect((await failure(member.dod.reportCheck({ ...lease, itemKey: "unit", command: "npm test", exitCode: 0, durationMs: 1 }))).code).toBe("FORBIDDEN");
      await runner.run.complete({ ...lease, status: "succeeded" });
      expect(await failure(runner.dod.reportCheck({ ...lease, itemKey: "unit", command: "npm test", exitCode: 0, durationMs: 1 }))).toMatchObject({
        reason: "LEASE_LOST",
      });
      const m = await api.admin.run.mergeability({ runId: run.id });
      expect(m.missing.map((x) => x.key)).toEqual(["lint", "e2e"]);
    });
  });
});
