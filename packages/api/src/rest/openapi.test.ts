import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenApi, MAX_BODY_BYTES } from "../http/handler.js";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";
import { openApiDocument } from "./document.js";
import type { RestErrorBody } from "./errors.js";
import { restRoutes } from "./routes.js";
import { restClient, type RestCall } from "./testing.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../../..");

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const doc = structuredClone(openApiDocument());
    expect(doc.openapi).toBe("3.1.0");
    await expect(SwaggerParser.validate(doc as never)).resolves.toBeTruthy();
  });

  it("documents every route of the table, each operation once", () => {
    const doc = openApiDocument();
    const documented = Object.entries(doc.paths ?? {}).flatMap(([p, item]) =>
      Object.keys(item ?? {})
        .filter((k) => ["get", "post", "patch", "delete"].includes(k))
        .map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(documented.sort()).toEqual(restRoutes.map((r) => `${r.method} ${r.path}`).sort());
    const ids = documented.map((op) => {
      const [m, p] = op.split(" ") as [string, string];
      return (doc.paths![p] as Record<string, { operationId?: string }>)[m.toLowerCase()]?.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("has every documented operation exercised by a test", () => {
    // Tests call operations by their documented name (`restClient`'s "POST /runs/{runId}/cancel"),
    // so a route whose name appears in no test file is an untested path.
    const files = [
      ...readdirSync(here)
        .filter((f) => f.endsWith(".test.ts"))
        .map((f) => path.join(here, f)),
      path.join(repoRoot, "examples/python-runner/runner.test.ts"),
    ];
    const sources = files.map((f) => readFileSync(f, "utf8")).join("\n");
    const untested = restRoutes.map((r) => `${r.method} ${r.path}`).filter((op) => !sources.includes(`"${op}"`));
    expect(untested).toEqual([]);
  });
});

describe("the REST HTTP layer", () => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;
  let call: RestCall;

  beforeAll(async () => {
    api = await startTestApi("sqlite");
    http = await listenApi(api.core);
    call = restClient(http.url, api.adminToken);
  });
  afterAll(async () => {
    await http.close();
    await api.close();
  });

  it("serves the document at /api/v1/openapi.json without a token", async () => {
    const res = await fetch(`${http.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/runs/claim");
  });

  it("answers an unknown path 404 and a wrong method 405, in the error shape", async () => {
    const missing = await fetch(`${http.url}/api/v1/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as RestErrorBody).error).toMatchObject({ code: "NOT_FOUND", reason: "NOT_FOUND" });
    const wrong = await fetch(`${http.url}/api/v1/runs`, { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")?.split(", ").sort()).toEqual(["GET", "POST"]);
    expect(((await wrong.json()) as RestErrorBody).error.code).toBe("METHOD_NOT_SUPPORTED");
  });

  it("needs a bearer token: 401 UNAUTHORIZED without one, and a bad one", async () => {
    for (const token of [null, "ab_not-a-token"]) {
      const res = await call<RestErrorBody>("GET /whoami", { token });
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: "UNAUTHORIZED", reason: "UNAUTHORIZED" });
    }
    const me = await call<{ role: string }>("GET /whoami");
    expect(me.body.role).toBe("admin");
  });

  it("serves health without a token", async () => {
    const res = await call<{ status: string; db: string }>("GET /health", { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "ok", db: "sqlite" });
  });

  it("answers a body that is not JSON, or not an object, 400 and writes nothing", async () => {
    const seed = await seedBoard(api, "layer");
    const before = await api.core.deps.db.prisma.card.count();
    for (const rawBody of ["{nope", "[1,2]", "42"]) {
      const res = await call<RestErrorBody>("POST /boards/{boardId}/cards", { params: { boardId: seed.board.id }, rawBody });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("BAD_REQUEST");
    }
    expect(await api.core.deps.db.prisma.card.count()).toBe(before);
  });

  it("answers a body over the size limit 413 PAYLOAD_TOO_LARGE and writes nothing", async () => {
    const seed = await seedBoard(api, "large");
    const before = await api.core.deps.db.prisma.card.count();
    const res = await fetch(`${http.url}/api/v1/boards/${seed.board.id}/cards`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ projectId: seed.project.id, title: "x".repeat(MAX_BODY_BYTES) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as RestErrorBody).error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", reason: "PAYLOAD_TOO_LARGE" });
    expect(await api.core.deps.db.prisma.card.count()).toBe(before);
  });
});
