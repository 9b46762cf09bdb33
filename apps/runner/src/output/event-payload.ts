/**
 * Turns what engines and the runner report into event payloads the API accepts: plain
 * JSON, each string bounded, the whole payload well under the API's 256 KiB per event.
 * A huge tool result is shown by its head and tail; the full text stays in the worktree.
 */
import type { JsonRecord, JsonValue, OutgoingEvent } from "./event-batcher.js";

const MAX_STRING = 32 * 1024;
const MAX_PAYLOAD = 200 * 1024;
const MAX_DEPTH = 20;

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n… [${text.length - max} characters omitted] …\n${text.slice(text.length - half)}`;
}

function toJson(value: unknown, depth: number): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return clip(value, MAX_STRING);
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean") return value;
  if (typeof value === "bigint") return value.toString();
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    const out: JsonRecord = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v, depth + 1);
    return out;
  }
  return String(value);
}

export function toPayload(value: object): JsonRecord {
  const json = toJson(value, 0);
  const record: JsonRecord = json !== null && typeof json === "object" && !Array.isArray(json) ? json : { value: json };
  const size = JSON.stringify(record).length;
  if (size <= MAX_PAYLOAD) return record;
  return { truncated: true, originalSize: size, preview: clip(JSON.stringify(record), 16 * 1024) };
}

export function outgoing(type: string, payload: object): OutgoingEvent {
  return { type, payload: toPayload(payload) };
}
