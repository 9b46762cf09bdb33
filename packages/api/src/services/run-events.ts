import type { Prisma, PublicRun } from "@agentboard/db";
import { isRecordNotFound } from "../errors.js";

/**
 * Prisma types an interactive transaction's client without the global omit
 * (@agentboard/db's secretFields), though it applies at run time: what `transition()`
 * returns is typed as it really is.
 */
export type Tx = Prisma.TransactionClient;

export interface NewEvent {
  type: string;
  actor: string;
  payload?: Prisma.InputJsonValue;
}

/**
 * The one way a run changes: a conditional update of the run row that also reserves
 * sequence numbers for its events, then the events. The row lock taken by the update keeps
 * each run's events gap-free and in commit order. Returns null when `where` no longer
 * matches (someone else changed the run first) and writes nothing.
 */
export async function transition(
  tx: Tx,
  runId: string,
  where: Prisma.RunWhereInput,
  data: Prisma.RunUpdateInput,
  events: NewEvent[],
): Promise<PublicRun | null> {
  let run: PublicRun;
  try {
    run = await tx.run.update({
      where: { ...where, id: runId },
      data: { ...data, eventSeq: { increment: events.length } },
    });
  } catch (err) {
    if (isRecordNotFound(err)) return null;
    throw err;
  }
  if (events.length > 0) {
    const first = run.eventSeq - events.length + 1;
    await tx.runEvent.createMany({
      data: events.map((e, i) => ({ runId, seq: first + i, type: e.type, actor: e.actor, payload: e.payload ?? {} })),
    });
  }
  return run;
}
