import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { assertInside } from "@agentboard/git";
import { AppError, badRequest, notFound } from "../errors.js";

/**
 * Evidence files live in `<dataDir>/evidence/` under names this module generates. The
 * caller's file name is a display label stored in the database and is never part of a
 * path: there is nothing a payload can put in it to reach another directory.
 */

export const EVIDENCE_MAX_BYTES = 5 * 1024 * 1024;

const GENERATED_NAME_RE = /^ev-[0-9a-f]{32}$/;

export function evidenceDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), "evidence");
}

/**
 * A display name: one plain file name, no separators, no control characters, not a
 * relative-path token. Refused rather than cleaned so that a traversal attempt is visible
 * to the caller instead of being quietly rewritten.
 */
export function displayNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 255) return "must be 1 to 255 characters";
  if (name !== name.trim()) return "must not start or end with whitespace";
  if (name === "." || name === "..") return "must be a file name, not a path";
  if (/[/\\]/.test(name)) return "must be a file name without / or \\";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the check refuses.
  if (/[\u0000-\u001f\u007f]/.test(name)) return "must not contain control characters";
  return null;
}

export type FilePayload = { name: string; contentBase64: string } | { name: string; content: string };

/** The payload's bytes, refusing anything over the limit before a byte reaches the disk. */
export function decodeFilePayload(payload: FilePayload): Buffer {
  const problem = displayNameProblem(payload.name);
  if (problem) throw badRequest(`file name ${problem}`, "payload.name");
  let bytes: Buffer;
  if ("contentBase64" in payload) {
    // Node's decoder skips invalid characters silently; corrupt uploads must fail instead.
    if (payload.contentBase64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload.contentBase64)) {
      throw badRequest("contentBase64 is not valid base64", "payload.contentBase64");
    }
    // Checked on the encoded length first so an oversized upload is never decoded.
    if ((payload.contentBase64.length / 4) * 3 - 2 > EVIDENCE_MAX_BYTES) throw tooLarge();
    bytes = Buffer.from(payload.contentBase64, "base64");
  } else {
    bytes = Buffer.from(payload.content, "utf8");
  }
  if (bytes.length > EVIDENCE_MAX_BYTES) throw tooLarge();
  return bytes;
}

function tooLarge() {
  return new AppError("PAYLOAD_TOO_LARGE", "PAYLOAD_TOO_LARGE", `evidence files are limited to ${EVIDENCE_MAX_BYTES} bytes`, {
    limit: EVIDENCE_MAX_BYTES,
  });
}

async function ensureEvidenceDir(dataDir: string): Promise<string> {
  const dir = evidenceDir(dataDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fs.lstat(dir);
  // A symlink here would send every upload wherever it points.
  if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`${dir} is not a plain directory`);
  return dir;
}

export interface StoredFile {
  fileName: string;
  size: number;
  /** Undo for a database write that failed after the file was stored. */
  discard: () => Promise<void>;
}

/**
 * Writes to a temporary name, then renames: a reader never sees a partial file, and a
 * crash leaves only a `.tmp-` file that no row refers to.
 */
export async function storeEvidenceFile(dataDir: string, bytes: Buffer): Promise<StoredFile> {
  const dir = await ensureEvidenceDir(dataDir);
  const fileName = `ev-${randomBytes(16).toString("hex")}`;
  const finalPath = assertInside(dir, path.join(dir, fileName));
  const tmpPath = assertInside(dir, path.join(dir, `.tmp-${fileName}`));
  try {
    await fs.writeFile(tmpPath, bytes, { flag: "wx", mode: 0o600 });
    await fs.rename(tmpPath, finalPath);
  } catch (err) {
    await fs.rm(tmpPath, { force: true });
    throw err;
  }
  return { fileName, size: bytes.length, discard: () => fs.rm(finalPath, { force: true }) };
}

/** Only names this module generated are ever opened. */
export function evidenceFilePath(dataDir: string, fileName: string): string {
  if (!GENERATED_NAME_RE.test(fileName)) throw notFound("evidence file", fileName);
  const dir = evidenceDir(dataDir);
  return assertInside(dir, path.join(dir, fileName));
}

export async function readEvidenceFile(dataDir: string, fileName: string): Promise<Buffer> {
  try {
    return await fs.readFile(evidenceFilePath(dataDir, fileName));
  } catch (err) {
    if (typeof err === "object" && err !== null && "code" in err && err.code === "ENOENT") throw notFound("evidence file", fileName);
    throw err;
  }
}
