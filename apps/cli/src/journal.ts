import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";

/** One line of the local audit journal (JSON Lines). */
export interface JournalEntry {
  type: "run-claimed";
  runId: string;
  workspaceId: string;
  claimedBy: string;
  attempt: number;
  at: string;
}

/**
 * Appends to the caller's audit journal. It is written only after the claim committed on
 * the server, so a journal line never records a claim that did not happen; if the append
 * fails, the claim still stands and the caller gets a PARTIAL_SUCCESS warning to retry the
 * journal write.
 */
export async function appendJournal(path: string, entry: JournalEntry): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify(entry)}\n`, { encoding: "utf8", flag: "a" });
}
