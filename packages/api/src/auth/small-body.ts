import type { IncomingMessage } from "node:http";

/** A small request body (sign-in, sign-up forms), or null when it is larger than `maxBytes` (the rest is not read). */
export function readSmallBody(req: IncomingMessage, maxBytes: number): Promise<string | null> {
  if (Number(req.headers["content-length"]) > maxBytes) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= maxBytes) return void chunks.push(c);
      req.off("data", onData);
      resolve(null);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
