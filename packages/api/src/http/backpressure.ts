import type { ServerResponse } from "node:http";

/**
 * Slow and stopped readers. A streaming response never writes ahead of its client: the
 * direct SSE path waits for `drain` before it takes the next event (whenWritable), and
 * tRPC's handler waits for it between chunks. What is left is a client that stops reading
 * altogether: its response holds a subscription, a page of events and a connection for
 * nothing. The stall watch drops a response whose client has taken none of the bytes
 * waiting for it for `stallMs`; a subscriber resumes from its last event id when it comes
 * back, so dropping it loses nothing.
 */
export const DEFAULT_STALL_MS = 30_000;

interface Watched {
  /** Bytes the socket had handed to the kernel when last checked. */
  sent: number;
  /** When the client last took something, or the response last had nothing waiting. */
  since: number;
}

export interface StallWatch {
  /** Watches `res` until it finishes or closes. */
  watch(res: ServerResponse): void;
  /** Responses watched now (for tests). */
  readonly size: number;
}

/**
 * One timer for every response of a server. Progress is what the socket handed to the
 * kernel (`bytesWritten` counts what was queued too; `writableLength` is what still
 * waits), so a slow reader that drains a large answer bit by bit is kept, and only one
 * that takes nothing at all is dropped.
 */
export function createStallWatch(stallMs = DEFAULT_STALL_MS): StallWatch {
  const watched = new Map<ServerResponse, Watched>();
  let timer: NodeJS.Timeout | null = null;

  const check = () => {
    const now = Date.now();
    for (const [res, w] of watched) {
      const socket = res.socket;
      if (!socket || socket.destroyed) {
        watched.delete(res);
        continue;
      }
      const waiting = socket.writableLength;
      const sent = socket.bytesWritten - waiting;
      if (waiting === 0 || sent !== w.sent) {
        w.sent = sent;
        w.since = now;
      } else if (now - w.since >= stallMs) {
        watched.delete(res);
        socket.destroy();
      }
    }
    if (watched.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };

  return {
    watch(res) {
      watched.set(res, { sent: -1, since: Date.now() });
      const forget = () => watched.delete(res);
      res.once("finish", forget);
      res.once("close", forget);
      if (!timer) {
        timer = setInterval(check, Math.max(25, Math.min(1_000, Math.floor(stallMs / 4))));
        timer.unref();
      }
    },
    get size() {
      return watched.size;
    },
  };
}

/**
 * Resolves when `res` may be written again: at once unless its last write filled the
 * buffer, else at `drain`, or when the response closes (the caller checks for that).
 */
export function whenWritable(res: ServerResponse): Promise<void> | null {
  if (!res.writableNeedDrain || res.destroyed) return null;
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
