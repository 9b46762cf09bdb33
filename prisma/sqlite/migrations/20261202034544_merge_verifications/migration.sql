-- CreateTable
CREATE TABLE "merge_verifications" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "run_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "base_commit" TEXT NOT NULL,
    "branch_commit" TEXT NOT NULL,
    "requested_by" TEXT NOT NULL,
    "cleanup" BOOLEAN NOT NULL DEFAULT true,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "runner_id" TEXT,
    "lease_token" TEXT,
    "lease_expires_at" DATETIME,
    "report" JSONB,
    "reason" TEXT,
    "message" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_at" DATETIME,
    "finished_at" DATETIME,
    CONSTRAINT "merge_verifications_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "merge_verifications_workspace_id_status_created_at_idx" ON "merge_verifications"("workspace_id", "status", "created_at");

-- CreateIndex
CREATE INDEX "merge_verifications_run_id_created_at_idx" ON "merge_verifications"("run_id", "created_at");
