-- DropIndex
DROP INDEX "runs_workspace_id_status_priority_created_at_idx";

-- CreateIndex
CREATE INDEX "runs_workspace_id_status_priority_created_at_id_idx" ON "runs"("workspace_id", "status", "priority" DESC, "created_at", "id");
