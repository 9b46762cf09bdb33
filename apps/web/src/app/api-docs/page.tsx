import type { Metadata } from "next";
import { ApiReference } from "@/components/api-docs/api-reference";

export const metadata: Metadata = { title: "REST API reference" };

/**
 * The REST API's reference, rendered from /api/v1/openapi.json by Swagger UI bundled with
 * the app (no CDN: it works offline). Public, like the document itself; "Try it out" calls
 * need a token, entered under "Authorize".
 */
export default function ApiDocsPage() {
  return (
    <main className="min-h-screen bg-white text-zinc-900">
      <ApiReference url="/api/v1/openapi.json" />
    </main>
  );
}
