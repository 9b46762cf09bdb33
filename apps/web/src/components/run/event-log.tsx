"use client";

import { memo, useEffect, useMemo, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import { formatTime } from "@/lib/format";
import { cn } from "@/components/ui/cn";
import { blockTone, toLogItems, type LogItem } from "./log-items";
import type { RunEvents } from "./use-run-events";

const PREVIEW_CHARS = 20_000;

/**
 * The live log: agent messages, tool calls (collapsible input and output), command output.
 * Virtualized: only the rows on screen are in the page, however long the run. The latest
 * events come first; scrolling to the top reads older ones, a page at a time.
 */
export function EventLog({ live }: { live: RunEvents }) {
  const { events, duplicates, gaps, older, loadingOlder, loadOlder, setFollowing } = live;
  const items = useMemo(() => toLogItems(events), [events]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  // Anchored at the end, as a log is: older events put in front keep what is on screen
  // where it was, and a log scrolled to its end stays there while its rows are measured
  // or grow (the library's own end anchoring, not a one-off scroll that a late measurement
  // undoes).
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 44,
    overscan: 10,
    getItemKey: (i) => items[i]?.key ?? i,
    anchorTo: "end",
    followOnAppend: follow,
  });

  useEffect(() => setFollowing(follow), [follow, setFollowing]);

  // Following: to the end when following starts, and whenever the window of events moves.
  useEffect(() => {
    if (follow && items.length > 0) virtualizer.scrollToEnd();
  }, [items, follow, virtualizer]);

  const readOlder = () => {
    if (older === null || loadingOlder) return;
    loadOlder();
  };

  const rows = virtualizer.getVirtualItems();
  return (
    <section aria-labelledby="event-log" className="flex min-h-0 flex-col rounded-xl bg-white ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      <header className="flex items-center justify-between border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
        <h2 id="event-log" className="text-sm font-semibold">
          Event log{" "}
          <span className="font-normal text-zinc-500">
            ({live.lastSeq.toLocaleString("en")} events{older !== null ? `, the latest ${events.length.toLocaleString("en")} loaded` : ""})
          </span>
        </h2>
        <label className="flex items-center gap-1.5 text-xs text-zinc-600 dark:text-zinc-400">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
      </header>
      <div
        ref={scrollRef}
        onWheel={(e) => {
          // Scrolling up to read stops following; scrolling back to the end resumes it.
          const el = e.currentTarget;
          if (e.deltaY < 0) setFollow(false);
          else if (el.scrollHeight - el.scrollTop - el.clientHeight < 40) setFollow(true);
        }}
        onScroll={(e) => {
          if (e.currentTarget.scrollTop < 200 && !follow) readOlder();
        }}
        className="h-[60vh] min-h-64 overflow-y-auto px-4 py-3"
        data-testid="event-log"
        data-count={events.length}
        data-first-seq={events[0]?.seq ?? 0}
        data-last-seq={events.at(-1)?.seq ?? 0}
        data-older={older ?? ""}
        data-duplicates={duplicates}
        data-gaps={gaps}
        role="log"
        aria-live="off"
      >
        {older !== null ? (
          <button
            type="button"
            className="mb-2 w-full rounded-md py-1 text-xs text-indigo-600 hover:bg-indigo-50 dark:hover:bg-indigo-950/40"
            onClick={() => {
              setFollow(false);
              readOlder();
            }}
            data-testid="load-older"
          >
            {loadingOlder ? "Loading older events…" : "Load older events"}
          </button>
        ) : null}
        {items.length === 0 ? <p className="py-8 text-center text-sm text-zinc-500">Waiting for events…</p> : null}
        <ol className="relative" style={{ height: virtualizer.getTotalSize() }}>
          {rows.map((row) => {
            const item = items[row.index]!;
            return (
              <li
                key={row.key}
                data-index={row.index}
                ref={virtualizer.measureElement}
                className="event-row absolute left-0 flex w-full gap-3 pb-2 text-sm"
                style={{ transform: `translateY(${row.start}px)` }}
                data-kind={item.kind}
              >
                <LogRow item={item} />
              </li>
            );
          })}
        </ol>
      </div>
    </section>
  );
}

const LogRow = memo(function LogRow({ item }: { item: LogItem }) {
  return (
    <>
      <time className="w-16 shrink-0 pt-0.5 font-mono text-[11px] text-zinc-400" dateTime={item.at.toISOString()}>
        {formatTime(item.at)}
      </time>
      <div className="min-w-0 flex-1">
        <ItemBody item={item} />
      </div>
    </>
  );
});

function ItemBody({ item }: { item: LogItem }) {
  switch (item.kind) {
    case "message":
      return (
        <div
          className={cn(
            "rounded-lg px-3 py-2 whitespace-pre-wrap break-words",
            item.role === "assistant" ? "bg-indigo-50 dark:bg-indigo-950/40" : "bg-zinc-100 dark:bg-zinc-800",
          )}
        >
          <span className="mb-0.5 block text-[11px] font-medium text-zinc-500 uppercase">{item.role}</span>
          {item.text}
        </div>
      );
    case "thinking":
      return (
        <details className="text-zinc-500">
          <summary className="cursor-pointer text-xs">Thinking…</summary>
          <p className="mt-1 whitespace-pre-wrap italic">{item.text}</p>
        </details>
      );
    case "tool":
      return (
        <details className="rounded-lg ring-1 ring-zinc-200 dark:ring-zinc-700" data-testid="tool-call">
          <summary className="flex cursor-pointer items-center gap-2 px-3 py-1.5 text-xs">
            <span className="font-mono font-semibold">{item.name}</span>
            <span className="truncate font-mono text-zinc-500">{summarize(item.input)}</span>
            <span
              className={cn(
                "ml-auto shrink-0",
                item.output == null ? (item.awaitingApproval ? "text-amber-600" : "text-zinc-400") : item.isError ? "text-red-600" : "text-emerald-600",
              )}
            >
              {item.output == null ? (item.awaitingApproval ? "waiting for approval" : "running…") : item.isError ? "error" : "done"}
            </span>
          </summary>
          <div className="space-y-2 border-t border-zinc-200 px-3 py-2 dark:border-zinc-700">
            <Block label="Input" text={JSON.stringify(item.input, null, 2)} />
            {item.output != null ? <Block label="Output" text={item.output} error={item.isError} /> : null}
          </div>
        </details>
      );
    case "output":
      return <Block text={item.text} error={item.stream === "stderr"} terminal />;
    case "approval":
      return <ApprovalLine item={item} />;
    case "status":
      return (
        <p className="text-xs text-zinc-600 dark:text-zinc-400">
          <span className="font-mono font-semibold text-zinc-800 dark:text-zinc-200">{item.type}</span> by {item.actor}
          {describeStatus(item.payload)}
        </p>
      );
    case "other":
      return (
        <details className="text-xs text-zinc-500">
          <summary className="cursor-pointer font-mono">{item.type}</summary>
          <pre className="mt-1 overflow-x-auto">{JSON.stringify(item.payload, null, 2)}</pre>
        </details>
      );
  }
}

const APPROVAL_PHASES = {
  requested: { label: "Approval requested", tone: "text-amber-700 dark:text-amber-300" },
  granted: { label: "Approved", tone: "text-emerald-700 dark:text-emerald-400" },
  denied: { label: "Denied", tone: "text-red-700 dark:text-red-400" },
  expired: { label: "Expired unanswered (denied)", tone: "text-red-700 dark:text-red-400" },
} as const;

function ApprovalLine({ item }: { item: Extract<LogItem, { kind: "approval" }> }) {
  const phase = APPROVAL_PHASES[item.phase];
  return (
    <div className="text-xs" data-testid="approval-event" data-phase={item.phase}>
      <span className={cn("font-semibold", phase.tone)}>{phase.label}</span>
      {item.phase === "requested" ? <code className="ml-1 break-all">{item.what.length > 300 ? `${item.what.slice(0, 300)}…` : item.what}</code> : null}
      {item.phase === "granted" || item.phase === "denied" ? <span> by {item.actor}</span> : null}
      {item.note ? <span className="text-zinc-600 dark:text-zinc-400"> — “{item.note}”</span> : null}
    </div>
  );
}

function Block({ label, text, error, terminal }: { label?: string; text: string; error?: boolean; terminal?: boolean }) {
  const [full, setFull] = useState(false);
  const long = text.length > PREVIEW_CHARS;
  const shown = long && !full ? `${text.slice(0, PREVIEW_CHARS)}\n…` : text;
  return (
    <div>
      {label ? <span className="text-[11px] font-medium text-zinc-500 uppercase">{label}</span> : null}
      <pre className={cn("max-h-96 overflow-auto rounded-md px-3 py-2 font-mono text-xs whitespace-pre-wrap break-words", blockTone({ terminal, error }))}>
        {shown}
      </pre>
      {long ? (
        <button type="button" className="text-xs text-indigo-600 underline" onClick={() => setFull((f) => !f)}>
          {full ? "Show less" : `Show all ${text.length.toLocaleString()} characters`}
        </button>
      ) : null}
    </div>
  );
}

function summarize(input: unknown): string {
  if (input && typeof input === "object") {
    const first = Object.values(input as Record<string, unknown>).find((v) => typeof v === "string");
    if (typeof first === "string") return first.length > 80 ? `${first.slice(0, 80)}…` : first;
  }
  return "";
}

function describeStatus(payload: unknown): string {
  if (!payload || typeof payload !== "object") return "";
  const p = payload as Record<string, unknown>;
  const reason = typeof p.reason === "string" ? p.reason : null;
  const error = p.error && typeof p.error === "object" && "message" in p.error && typeof p.error.message === "string" ? p.error.message : null;
  const summary = typeof p.summary === "string" ? p.summary : null;
  const parts = [
    reason && `reason: ${reason}`,
    error && `error: ${error}`,
    summary && `— ${summary.length > 200 ? `${summary.slice(0, 200)}…` : summary}`,
  ].filter(Boolean);
  return parts.length ? ` · ${parts.join(" · ")}` : "";
}
