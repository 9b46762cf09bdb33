"use client";

import { useEffect, useRef } from "react";
import "swagger-ui-dist/swagger-ui.css";

/** Swagger UI mounted on a div; its bundle is loaded on the client only (it touches `window`). */
export function ApiReference({ url }: { url: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let cancelled = false;
    void import("swagger-ui-dist/swagger-ui-es-bundle.js").then(({ default: SwaggerUIBundle }) => {
      if (cancelled || !el.current) return;
      SwaggerUIBundle({
        url,
        domNode: el.current,
        deepLinking: true,
        // No call to the public validator service: the page works offline.
        validatorUrl: null,
        tryItOutEnabled: false,
        persistAuthorization: false,
      });
    });
    return () => {
      cancelled = true;
    };
  }, [url]);
  return <div ref={el} data-testid="api-reference" />;
}
