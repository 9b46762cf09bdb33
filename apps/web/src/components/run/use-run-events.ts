"use client";

import { useEffect, useRef, useState } from "react";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "@/trpc/react";
import type { RunEventRow } from "@/trpc/types";
import { changesRun, useRefreshRun } from "./use-refresh-run";

export interface RunEventsState {
  events: RunEventRow[];
  /** Events that arrived twice (dropped here). The protocol promises none; the e2e test checks. */
  duplicates: number;
  /** Jumps in the sequence (an event missing). The protocol promises none either. */
  gaps: number;
  connection: "connecting" | "live" | "reconnecting" | "error";
  error: unknown;
}

/**
 * The run's event log, live: `run.onEvents` backfills and follows; after a dropped
 * connection the link resumes from the last event id it saw. Events arrive in bursts
 * (a backfill can be thousands), so they are applied once per animation frame.
 */
export function useRunEvents(runId: string): RunEventsState {
  const trpc = useTRPC();
  const refreshRun = useRefreshRun(runId);
  const [state, setState] = useState<RunEventsState>({ events: [], duplicates: 0, gaps: 0, connection: "connecting", error: null });
  const pending = useRef<RunEventRow[]>([]);
  const lastSeq = useRef(0);
  const counters = useRef({ duplicates: 0, gaps: 0 });
  const frame = useRef<number | null>(null);

  useEffect(
    () => () => {
      if (frame.current != null) cancelAnimationFrame(frame.current);
    },
    [],
  );

  const flush = () => {
    frame.current = null;
    const batch = pending.current;
    pending.current = [];
    const { duplicates, gaps } = counters.current;
    setState((s) =>
      batch.length === 0 && s.duplicates === duplicates && s.gaps === gaps ? s : { ...s, events: batch.length ? s.events.concat(batch) : s.events, duplicates, gaps },
    );
    // A status or DoD event changes the run's row (status, metrics, diff, checklist) and its
    // merge gate: re-read them, so a decision made in another browser shows here at once.
    if (batch.some((e) => changesRun(e.type))) refreshRun();
  };
  // A duplicate is flushed too, so that the counters show even when no event follows it.
  const schedule = () => {
    frame.current ??= requestAnimationFrame(flush);
  };

  useSubscription(
    trpc.run.onEvents.subscriptionOptions(
      { runId },
      {
        onStarted: () => setState((s) => ({ ...s, connection: "live", error: null })),
        onConnectionStateChange: (c) => {
          if (c.state === "connecting") setState((s) => (s.connection === "connecting" ? s : { ...s, connection: "reconnecting" }));
        },
        onError: (error) => setState((s) => ({ ...s, connection: "error", error })),
        onData: ({ data: event }) => {
          if (event.seq <= lastSeq.current) {
            counters.current.duplicates++;
            schedule();
            return;
          }
          if (event.seq !== lastSeq.current + 1) counters.current.gaps++;
          lastSeq.current = event.seq;
          pending.current.push(event);
          schedule();
        },
      },
    ),
  );
  return state;
}
