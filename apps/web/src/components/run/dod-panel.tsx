"use client";

import { useState } from "react";
import type { DodItem, RunDetail } from "@/trpc/types";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { AddEvidenceDialog } from "./add-evidence-dialog";
import { EvidenceEntry } from "./dod-evidence";
import { DodStatus, isSatisfied } from "./dod-status";

/** Statuses after which evidence and decisions are refused (the server says INVALID_STATE). */
const CLOSED: readonly RunDetail["status"][] = ["merged", "aborted"];

/**
 * The run's Definition of Done: every item with its status and evidence, and — for members
 * and admins while the run is open — adding evidence, validating and rejecting it. The
 * merge gate reads the same items (`run.mergeability`), so what this panel shows is what
 * blocks or allows the merge.
 */
export function DodPanel({ run }: { run: RunDetail }) {
  const { session } = useSession();
  const open = !CLOSED.includes(run.status);
  const canDecide = can(session, "member", run.workspaceId) && open;
  // `undefined`: closed; `null`: open on "choose an item"; a string: open on that item.
  const [adding, setAdding] = useState<string | null | undefined>(undefined);

  const required = run.dodItems.filter((i) => i.required);
  const satisfied = required.filter(isSatisfied).length;

  return (
    <section
      aria-labelledby="dod"
      className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
      data-slot="dod-panel"
      data-testid="dod-panel"
    >
      <div className="mb-3 flex flex-wrap items-center gap-3">
        <h2 id="dod" className="text-sm font-semibold">
          Definition of Done
        </h2>
        {required.length ? (
          <span
            className={cn("text-xs", satisfied === required.length ? "text-emerald-700 dark:text-emerald-400" : "text-zinc-500")}
            data-testid="dod-progress"
          >
            {satisfied} of {required.length} required {required.length === 1 ? "item" : "items"} validated
          </span>
        ) : null}
        <span className="flex-1" />
        {canDecide ? (
          <Button size="sm" onClick={() => setAdding(null)}>
            + Add evidence
          </Button>
        ) : null}
      </div>

      {!open ? (
        <p className="mb-2 text-xs text-zinc-500">The checklist is closed: the run is {run.status}. It is kept as the record of what was checked.</p>
      ) : null}

      {run.dodItems.length === 0 ? (
        <p className="text-sm text-zinc-500">This run has no checklist{canDecide ? ": evidence added under a new key starts one (as optional items)." : "."}</p>
      ) : (
        <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {run.dodItems.map((item) => (
            <DodItemRow key={item.id} item={item} canDecide={canDecide} onAddEvidence={() => setAdding(item.id)} />
          ))}
        </ul>
      )}

      {canDecide ? <AddEvidenceDialog run={run} open={adding !== undefined} initialItemId={adding ?? null} onClose={() => setAdding(undefined)} /> : null}
    </section>
  );
}

function DodItemRow({ item, canDecide, onAddEvidence }: { item: DodItem; canDecide: boolean; onAddEvidence: () => void }) {
  const headingId = `dod-item-${item.id}`;
  return (
    <li className="py-3 first:pt-0 last:pb-0" data-testid="dod-item" data-key={item.key} data-status={item.status}>
      <div className="flex flex-wrap items-center gap-2">
        <DodStatus status={item.status} />
        <h3 id={headingId} className="text-sm font-medium">
          {item.title}
        </h3>
        <code className="text-[11px] text-zinc-500">{item.key}</code>
        {item.required ? (
          <span
            className="rounded bg-zinc-100 px-1.5 py-0.5 text-[11px] font-medium text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
            title="The merge waits for validated evidence of this item"
          >
            required
          </span>
        ) : (
          <span className="text-[11px] text-zinc-500" title="Never blocks the merge">
            optional
          </span>
        )}
        <span className="flex-1" />
        {canDecide ? (
          <Button size="sm" variant="ghost" onClick={onAddEvidence} aria-label={`Add evidence to ${item.title}`}>
            + Evidence
          </Button>
        ) : null}
      </div>
      {item.check ? (
        <p className="mt-1 text-xs text-zinc-500">
          Automatic check <code className="rounded bg-zinc-100 px-1 dark:bg-zinc-800">{item.check}</code>
          {item.autoValidate ? " · a passing run validates this item" : " · a person validates the result"}
        </p>
      ) : null}
      {item.evidence.length === 0 ? (
        <p className="mt-1 text-xs text-zinc-500">No evidence yet.</p>
      ) : (
        <ol className="mt-2 space-y-2" aria-label={`Evidence for ${item.title}`}>
          {item.evidence.map((ev) => (
            <EvidenceEntry key={ev.id} evidence={ev} itemTitle={item.title} canDecide={canDecide} />
          ))}
        </ol>
      )}
    </li>
  );
}
