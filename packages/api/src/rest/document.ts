import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import { VERSION } from "../services/health.js";
import { inputSchemaOf, pickFields, withoutFields } from "./procedures.js";
import { ZRestError } from "./responses.js";
import { restRoutes, type RestRoute } from "./routes.js";

export const REST_BASE = "/api/v1";

/** `{runId}` → `runId`, in order. */
export function pathParams(template: string): string[] {
  return [...template.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1] as string);
}

const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: ZRestError } } });

function errorResponses(route: RestRoute) {
  const out: Record<string, ReturnType<typeof errorResponse>> = {
    "400": errorResponse("Bad input: `reason` BAD_REQUEST and `field` names the field."),
  };
  if (!route.public) {
    out["401"] = errorResponse("No valid bearer token.");
    out["403"] = errorResponse("The token's role may not do this.");
    out["404"] = errorResponse("Unknown, or in a workspace this token cannot see.");
  }
  if (route.method !== "GET") {
    out["409"] = errorResponse("The state does not allow it; `reason` says why (ALREADY_CLAIMED, LEASE_LOST, NOT_CANCELLABLE, …).");
    out["413"] = errorResponse("The body is larger than the server accepts.");
  }
  out["500"] = errorResponse("An internal error (the message is generic; the server logs the cause).");
  return out;
}

function operation(route: RestRoute): ZodOpenApiOperationObject {
  const input = inputSchemaOf(route.procedure);
  const params = pathParams(route.path);
  const operationId = route.procedure.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase());
  const op: ZodOpenApiOperationObject = {
    operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.public ? { security: [] } : {}),
    responses: {
      [String(route.status ?? 200)]: {
        description: route.summary,
        content: {
          "application/json": { schema: route.response },
          ...(route.eventStream
            ? {
                "text/event-stream": {
                  schema: { type: "string", description: "Server-sent events: `id: <seq>`, `event: <type>`, `data: <RunEvent as JSON>`." },
                },
              }
            : {}),
        },
      },
      ...(route.noContentWhenNull ? { "204": { description: "No run was claimed within `waitMs`." } } : {}),
      ...errorResponses(route),
    },
  };
  if (input) {
    const rest = withoutFields(input, params);
    op.requestParams = {
      ...(params.length ? { path: pickFields(input, params) } : {}),
      ...(route.method === "GET" || route.method === "DELETE" ? { query: rest as never } : {}),
    };
    if (route.method === "POST" || route.method === "PATCH") op.requestBody = { required: true, content: { "application/json": { schema: rest } } };
  }
  if (route.eventStream) {
    op.parameters = [
      {
        name: "Last-Event-ID",
        in: "header",
        required: false,
        description: "With `Accept: text/event-stream`: resume after this event sequence number.",
        schema: { type: "string" },
      },
    ];
  }
  return op;
}

let cached: ReturnType<typeof createDocument> | null = null;

/** The OpenAPI 3.1 document of the REST API, built once from the route table. */
export function openApiDocument() {
  if (cached) return cached;
  const paths: ZodOpenApiPathsObject = {};
  for (const route of restRoutes) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase() as "get" | "post" | "patch" | "delete"] = operation(route);
  }
  cached = createDocument({
    openapi: "3.1.0",
    info: {
      title: "agentboard REST API",
      version: VERSION,
      description:
        "The same procedures as the typed tRPC API, over plain HTTP and JSON. Authenticate with " +
        "`Authorization: Bearer <token>`. Timestamps are ISO 8601 strings; counters are JSON " +
        "numbers. Errors: `{ error: { code, reason, message, field?, details? } }`. See docs/rest-api.md.",
    },
    servers: [{ url: REST_BASE }],
    security: [{ bearerAuth: [] }],
    components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "A personal, runner or admin token (`ab_…`)." } } },
    paths,
  });
  return cached;
}
