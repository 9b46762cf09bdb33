"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { CardRow } from "@/trpc/types";
import { useSession } from "@/components/session/use-session";
import { actorOfSession, ATTENTION_SENTENCE, newAttention, type Attention } from "./attention";

const OPT_IN_KEY = "agentboard:notify-attention";

/** "unsupported": no Notification API; "denied": the browser refused; "off" / "on": the person's choice. */
export type NotifyState = "unsupported" | "denied" | "off" | "on";

function initialState(): NotifyState {
  if (typeof window === "undefined" || !("Notification" in window)) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  return Notification.permission === "granted" && window.localStorage.getItem(OPT_IN_KEY) === "1" ? "on" : "off";
}

/**
 * Opt-in browser notifications for the runs this person started, when one of them comes to
 * need them (succeeded for review, failed, a request for approval, a message it never read).
 * Nothing is asked of the browser until the person turns it on.
 */
export function useAttentionNotifications(cards: readonly CardRow[] | undefined) {
  const { session } = useSession();
  const me = actorOfSession(session);
  const [state, setState] = useState<NotifyState>("off");
  const seen = useRef(new Map<string, Attention | null>());
  const loaded = useRef(false);

  useEffect(() => setState(initialState()), []);

  useEffect(() => {
    if (!cards) return;
    const notices = newAttention(seen.current, cards, me, !loaded.current);
    loaded.current = true;
    if (state !== "on") return;
    for (const n of notices) {
      try {
        const note = new Notification(`“${n.title}” ${ATTENTION_SENTENCE[n.attention]}`, { body: "agentboard", tag: `${n.runId}:${n.attention}` });
        note.onclick = () => {
          window.focus();
          window.location.assign(`/runs/${n.runId}`);
        };
      } catch {
        // Some browsers only notify from a service worker; the board's marks still show it.
      }
    }
  }, [cards, me, state]);

  const toggle = useCallback(async () => {
    if (state === "unsupported" || state === "denied") return;
    if (state === "on") {
      window.localStorage.removeItem(OPT_IN_KEY);
      setState("off");
      return;
    }
    const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
    if (permission === "granted") {
      window.localStorage.setItem(OPT_IN_KEY, "1");
      setState("on");
    } else setState(permission === "denied" ? "denied" : "off");
  }, [state]);

  return { state, toggle };
}
