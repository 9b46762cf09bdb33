"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { skipToken, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "@/trpc/react";
import type { RunEventRow } from "@/trpc/types";
import { changesRun, useRefreshRun } from "./use-refresh-run";

/** The latest events loaded first; a long run's older events come a page at a time, on demand. */
const FIRST_PAGE = 500;
const OLDER_PAGE = 500;
/**
 * While the log follows the end, it holds this many events at most: the oldest are let go
 * (and read again if scrolled back to), so a run of hours keeps a page of constant size.
 */
export const FOLLOW_WINDOW = 2_000;
/** The events the page needs from the whole run, whatever is held of the log. */
const MILESTONE_TYPES = ["run.*", "runner.sandbox"];
const isMilestone = (type: string) => type.startsWith("run.") || type === "runner.sandbox";

export interface RunEventsState {
  /** The held part of the log, oldest first: the latest events, and older ones once asked for. */
  events: RunEventRow[];
  /** Status changes and the sandbox report, from the whole run. */
  milestones: RunEventRow[];
  /** Where older events continue (they end before this sequence number); null when all are held. */
  older: number | null;
  loadingOlder: boolean;
  /** The run's latest sequence number seen (its event count). */
  lastSeq: number;
  /** Events that arrived twice (dropped here). The protocol promises none; the e2e test checks. */
  duplicates: number;
  /** Jumps in the sequence (an event missing). The protocol promises none either. */
  gaps: number;
  connection: "connecting" | "live" | "reconnecting" | "error";
  error: unknown;
}

export interface RunEvents extends RunEventsState {
  loadOlder(): void;
  /** Following the end lets the oldest held events go (see FOLLOW_WINDOW). */
  setFollowing(following: boolean): void;
}

const initial: RunEventsState = {
  events: [],
  milestones: [],
  older: null,
  loadingOlder: false,
  lastSeq: 0,
  duplicates: 0,
  gaps: 0,
  connection: "connecting",
  error: null,
};

/**
 * The run's event log, live: the latest page first (`run.eventsPage`), then `run.onEvents`
 * follows from its end; after a dropped connection the link resumes from the last event id
 * it saw. Events arrive in bursts, so they are applied once per animation frame.
 */
export function useRunEvents(runId: string): RunEvents {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const refreshRun = useRefreshRun(runId);
  const [state, setState] = useState<RunEventsState>(initial);
  /** Where the live stream starts: the end of the first page, once it is read. */
  const [from, setFrom] = useState<number | null>(null);
  const pending = useRef<RunEventRow[]>([]);
  const lastSeq = useRef(0);
  const counters = useRef({ duplicates: 0, gaps: 0 });
  const frame = useRef<number | null>(null);
  const following = useRef(true);
  const loadingOlder = useRef(false);

  useEffect(
    () => () => {
      if (frame.current != null) cancelAnimationFrame(frame.current);
    },
    [],
  );

  useEffect(() => {
    let gone = false;
    const page = (input: { beforeSeq?: number; limit: number; types?: string[] }) =>
      qc.fetchQuery({ ...trpc.run.eventsPage.queryOptions({ runId, ...input }), staleTime: 0 });
    Promise.all([page({ limit: FIRST_PAGE }), page({ limit: 500, types: MILESTONE_TYPES })]).then(
      ([latest, milestones]) => {
        if (gone) return;
        const events = [...latest.events].reverse();
        const end = events.at(-1)?.seq ?? 0;
        lastSeq.current = end;
        setState((s) => ({ ...s, events, milestones: [...milestones.events].reverse(), older: latest.older, lastSeq: end }));
        setFrom(end);
      },
      (error: unknown) => !gone && setState((s) => ({ ...s, connection: "error", error })),
    );
    return () => {
      gone = true;
    };
  }, [qc, trpc, runId]);

  const flush = () => {
    frame.current = null;
    const batch = pending.current;
    pending.current = [];
    const { duplicates, gaps } = counters.current;
    setState((s) => {
      if (batch.length === 0 && s.duplicates === duplicates && s.gaps === gaps) return s;
      let events = batch.length ? s.events.concat(batch) : s.events;
      let older = s.older;
      if (following.current && events.length > FOLLOW_WINDOW) {
        events = events.slice(events.length - FOLLOW_WINDOW);
        older = events[0]!.seq;
      }
      const news = batch.filter((e) => isMilestone(e.type) && !s.milestones.some((m) => m.seq === e.seq));
      const milestones = news.length ? s.milestones.concat(news) : s.milestones;
      return { ...s, events, older, milestones, lastSeq: lastSeq.current, duplicates, gaps };
    });
    // A status or DoD event changes the run's row (status, metrics, diff, checklist) and its
    // merge gate: re-read them, so a decision made in another browser shows here at once.
    if (batch.some((e) => changesRun(e.type))) refreshRun();
  };
  // A duplicate is flushed too, so that the counters show even when no event follows it.
  const schedule = () => {
    frame.current ??= requestAnimationFrame(flush);
  };

  useSubscription(
    trpc.run.onEvents.subscriptionOptions(from === null ? skipToken : { runId, lastEventId: from }, {
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
    }),
  );

  const older = state.older;
  const loadOlder = useCallback(() => {
    if (older === null || loadingOlder.current) return;
    loadingOlder.current = true;
    setState((s) => ({ ...s, loadingOlder: true }));
    qc.fetchQuery({ ...trpc.run.eventsPage.queryOptions({ runId, beforeSeq: older, limit: OLDER_PAGE }), staleTime: 0 })
      .then(
        (page) =>
          setState((s) => {
            // Let go of meanwhile (the window moved): the page is no longer next to what is held.
            if (s.older !== older) return { ...s, loadingOlder: false };
            return { ...s, events: [...page.events].reverse().concat(s.events), older: page.older, loadingOlder: false };
          }),
        () => setState((s) => ({ ...s, loadingOlder: false })),
      )
      .finally(() => {
        loadingOlder.current = false;
      });
  }, [qc, trpc, runId, older]);

  const setFollowing = useCallback((f: boolean) => {
    following.current = f;
  }, []);

  return { ...state, loadOlder, setFollowing };
}
