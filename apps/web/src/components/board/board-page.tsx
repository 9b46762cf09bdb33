"use client";

import { useCallback, useEffect, useMemo, useState } from "react";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { isNotFound } from "@/lib/errors";
import { rememberWorkspace } from "@/components/workspace/use-workspace-choice";
import { Empty, ErrorState, Loading } from "@/components/ui/states";
import { cn } from "@/components/ui/cn";
import { stringsOf } from "@/lib/format";
import { BoardProvider, type BoardInfo } from "./board-context";
import { BoardView } from "./board-view";
import { CardDialog } from "./card-dialog";
import { useBoardLive, type LiveState } from "./use-board-live";
import { useBoardCards } from "./use-board-cards";
import { useAttentionNotifications, type NotifyState } from "./use-attention-notifications";
import { BoardSearch } from "./board-search";
import { BoardTitle } from "./board-title";
import type { CardRow } from "@/trpc/types";

export function BoardPage({ boardId }: { boardId: string }) {
  const trpc = useTRPC();
  const { session } = useSession();
  const board = useQuery(trpc.board.byId.queryOptions({ boardId }));
  const workspaceId = board.data?.workspaceId;
  const cards = useBoardCards(boardId);
  const projects = useQuery(trpc.project.list.queryOptions({ workspaceId: workspaceId ?? "" }, { enabled: !!workspaceId }));
  const live = useBoardLive(boardId);
  const notify = useAttentionNotifications(cards.data);
  const [openCardId, setOpenCardId] = useState<string | null>(null);
  /** A card opened from the search, which may be off the board (archived, or not yet read). */
  const [found, setFound] = useState<CardRow | null>(null);
  const onOpen = useCallback((id: string) => setOpenCardId(id), []);
  const onOpenFound = useCallback((card: CardRow) => {
    setFound(card);
    setOpenCardId(card.id);
  }, []);

  useEffect(() => {
    if (workspaceId) rememberWorkspace(workspaceId);
  }, [workspaceId]);

  const projectNames = useMemo(() => new Map((projects.data ?? []).map((p) => [p.id, p.name])), [projects.data]);
  const knownLabels = useMemo(() => [...new Set((cards.data ?? []).flatMap((c) => stringsOf(c.labels)))].sort(), [cards.data]);
  const info = useMemo<BoardInfo | null>(
    () => (workspaceId ? { boardId, workspaceId, projects: projects.data ?? [], lastProjectId: board.data?.lastProjectId ?? null } : null),
    [boardId, workspaceId, projects.data, board.data?.lastProjectId],
  );

  if (board.error) {
    return (
      <div className="p-6">
        {isNotFound(board.error) ? (
          <Empty title="This board does not exist (or is not yours to see)">
            <Link href="/" className="text-indigo-600 underline">
              Back to the boards
            </Link>
          </Empty>
        ) : (
          <ErrorState error={board.error} retry={() => void board.refetch()} />
        )}
      </div>
    );
  }
  if (board.isLoading || cards.isLoading || !info) return <Loading label="Loading the board" />;
  if (cards.error)
    return (
      <div className="p-6">
        <ErrorState error={cards.error} retry={() => void cards.refetch()} />
      </div>
    );

  const archived = !!board.data?.archivedAt;
  const canEdit = can(session, "member", workspaceId) && !archived;
  const openCard = openCardId ? (cards.data?.find((c) => c.id === openCardId) ?? (found?.id === openCardId ? found : undefined)) : undefined;
  return (
    <BoardProvider value={info}>
      <div className="flex h-[calc(100vh-3rem)] min-h-0 flex-col">
        <div className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
          {board.data ? <BoardTitle board={board.data} isAdmin={can(session, "admin", workspaceId)} /> : null}
          <LiveIndicator state={live} />
          <NotifyToggle state={notify.state} onToggle={() => void notify.toggle()} />
          <CardCount count={cards.totals ? Object.values(cards.totals).reduce((a, b) => a + b, 0) : (cards.data?.length ?? 0)} />
          <BoardSearch boardId={boardId} workspaceId={info.workspaceId} projects={info.projects} knownLabels={knownLabels} onOpen={onOpenFound} />
        </div>
        <div className="min-h-0 flex-1">
          <BoardView
            boardId={boardId}
            cards={cards.data ?? []}
            totals={cards.totals}
            onNeedMore={cards.loadMore}
            projectNames={projectNames}
            canEdit={canEdit}
            onOpen={onOpen}
          />
        </div>
      </div>
      <CardDialog
        card={openCard}
        boardId={boardId}
        canEdit={canEdit}
        onClose={() => {
          setOpenCardId(null);
          setFound(null);
        }}
      />
    </BoardProvider>
  );
}

function CardCount({ count }: { count: number }) {
  return <span className="text-xs text-zinc-500">{count === 1 ? "1 card" : `${count} cards`}</span>;
}

/** Opt-in browser notifications when a run you started needs you. */
function NotifyToggle({ state, onToggle }: { state: NotifyState; onToggle: () => void }) {
  if (state === "unsupported") return <span className="ml-auto" />;
  return (
    <label
      className="ml-auto flex items-center gap-1.5 text-xs text-zinc-500"
      title={state === "denied" ? "The browser blocks notifications for this site" : "A browser notification when a run you started needs you"}
    >
      <input type="checkbox" checked={state === "on"} disabled={state === "denied"} onChange={onToggle} data-testid="notify-toggle" />
      Notify me
    </label>
  );
}

function LiveIndicator({ state }: { state: LiveState }) {
  const label = state === "live" ? "Live" : state === "connecting" ? "Connecting" : "Reconnecting";
  return (
    <span className="flex items-center gap-1.5 text-xs text-zinc-500" data-testid="live-state" data-state={state} role="status">
      <span className={cn("size-2 rounded-full", state === "live" ? "bg-emerald-500" : "animate-pulse-dot bg-amber-500")} aria-hidden />
      {label}
    </span>
  );
}
