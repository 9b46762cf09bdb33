"use client";

import type { Workspace } from "@/trpc/types";
import { Select } from "@/components/ui/field";

export function WorkspacePicker({ workspaces, value, onChange }: { workspaces: Workspace[]; value: string | undefined; onChange: (id: string) => void }) {
  if (workspaces.length < 2) return null;
  return (
    <label className="flex items-center gap-2 text-sm">
      <span className="text-zinc-500">Workspace</span>
      <Select value={value ?? ""} onChange={(e) => onChange(e.target.value)} className="w-48">
        {workspaces.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </Select>
    </label>
  );
}
