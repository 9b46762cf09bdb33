-- DropIndex
DROP INDEX "runs_preferred_runner_id_status_idx";

-- CreateIndex
CREATE INDEX "runs_preferred_runner_id_status_priority_created_at_id_idx" ON "runs"("preferred_runner_id", "status", "priority" DESC, "created_at", "id");
