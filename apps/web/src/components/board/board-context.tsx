"use client";

import { createContext, useContext } from "react";
import type { Project } from "@/trpc/types";

export interface BoardInfo {
  boardId: string;
  workspaceId: string;
  projects: Project[];
  /** The project of the board's most recently created card (board.byId), offered first for a new one. */
  lastProjectId: string | null;
}

const BoardContext = createContext<BoardInfo | null>(null);

export const BoardProvider = BoardContext.Provider;

export function useBoardInfo(): BoardInfo {
  const info = useContext(BoardContext);
  if (!info) throw new Error("useBoardInfo outside a board");
  return info;
}
