-- AlterTable
ALTER TABLE "cards" ADD COLUMN "budget_usd" REAL;

-- AlterTable
ALTER TABLE "dod_evidence" ADD COLUMN "commit" TEXT;

-- CreateTable
CREATE TABLE "run_transcripts" (
    "run_id" TEXT NOT NULL PRIMARY KEY,
    "engine" TEXT NOT NULL,
    "messages" JSONB NOT NULL,
    "chars" INTEGER NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "run_transcripts_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "review_comments" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "run_id" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "commit" TEXT,
    "path" TEXT NOT NULL,
    "line" INTEGER NOT NULL,
    "side" TEXT NOT NULL DEFAULT 'new',
    "line_text" TEXT NOT NULL DEFAULT '',
    "body" TEXT NOT NULL,
    "author" TEXT NOT NULL,
    "sent_in_run_id" TEXT,
    "resolved_at" DATETIME,
    "resolved_by" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "review_comments_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "review_comments_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "cards" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_runs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "workspace_id" TEXT NOT NULL,
    "board_id" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "workflow_id" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "labels" JSONB NOT NULL DEFAULT '[]',
    "prompt" TEXT NOT NULL,
    "engine" TEXT NOT NULL,
    "model" TEXT,
    "command" TEXT,
    "max_turns" INTEGER,
    "timeout_ms" INTEGER,
    "budget_usd" REAL,
    "approval" TEXT NOT NULL DEFAULT 'none',
    "approval_timeout_ms" INTEGER,
    "branch" TEXT NOT NULL,
    "base_branch" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'run',
    "parent_run_id" TEXT,
    "start_commit" TEXT,
    "preferred_runner_id" TEXT,
    "head_commit" TEXT,
    "session_id" TEXT,
    "runner_id" TEXT,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL DEFAULT 3,
    "lease_token" TEXT,
    "lease_expires_at" DATETIME,
    "heartbeat_at" DATETIME,
    "cancel_requested_at" DATETIME,
    "cancel_requested_by" TEXT,
    "worktree_path" TEXT,
    "summary" TEXT,
    "files_changed" JSONB,
    "diff" TEXT,
    "diff_hash" TEXT,
    "diff_stat" JSONB,
    "tests_run" BOOLEAN,
    "tests_passed" BOOLEAN,
    "test_output" TEXT,
    "logs" TEXT,
    "tokens_in" BIGINT NOT NULL DEFAULT 0,
    "tokens_out" BIGINT NOT NULL DEFAULT 0,
    "cost_usd" REAL NOT NULL DEFAULT 0,
    "tool_calls" INTEGER NOT NULL DEFAULT 0,
    "duration_ms" INTEGER,
    "error" TEXT,
    "error_reason" TEXT,
    "created_by" TEXT,
    "merged_by" TEXT,
    "merge_commit" TEXT,
    "closed_by" TEXT,
    "closed_reason" TEXT,
    "cleanup_retry_at" DATETIME,
    "agent" JSONB,
    "event_seq" INTEGER NOT NULL DEFAULT 0,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_at" DATETIME,
    "started_at" DATETIME,
    "finished_at" DATETIME,
    "merged_at" DATETIME,
    "updated_at" DATETIME NOT NULL,
    CONSTRAINT "runs_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "runs_board_id_fkey" FOREIGN KEY ("board_id") REFERENCES "boards" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "runs_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "cards" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "runs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "runs_workflow_id_fkey" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "runs_runner_id_fkey" FOREIGN KEY ("runner_id") REFERENCES "runners" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "runs_parent_run_id_fkey" FOREIGN KEY ("parent_run_id") REFERENCES "runs" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_runs" ("agent", "approval", "approval_timeout_ms", "attempt", "base_branch", "board_id", "branch", "budget_usd", "cancel_requested_at", "cancel_requested_by", "card_id", "claimed_at", "cleanup_retry_at", "closed_by", "closed_reason", "command", "cost_usd", "created_at", "created_by", "diff", "diff_hash", "diff_stat", "duration_ms", "engine", "error", "error_reason", "event_seq", "files_changed", "finished_at", "heartbeat_at", "id", "labels", "lease_expires_at", "lease_token", "logs", "max_attempts", "max_turns", "merge_commit", "merged_at", "merged_by", "model", "priority", "project_id", "prompt", "runner_id", "started_at", "status", "summary", "test_output", "tests_passed", "tests_run", "timeout_ms", "tokens_in", "tokens_out", "tool_calls", "updated_at", "workflow_id", "workspace_id", "worktree_path") SELECT "agent", "approval", "approval_timeout_ms", "attempt", "base_branch", "board_id", "branch", "budget_usd", "cancel_requested_at", "cancel_requested_by", "card_id", "claimed_at", "cleanup_retry_at", "closed_by", "closed_reason", "command", "cost_usd", "created_at", "created_by", "diff", "diff_hash", "diff_stat", "duration_ms", "engine", "error", "error_reason", "event_seq", "files_changed", "finished_at", "heartbeat_at", "id", "labels", "lease_expires_at", "lease_token", "logs", "max_attempts", "max_turns", "merge_commit", "merged_at", "merged_by", "model", "priority", "project_id", "prompt", "runner_id", "started_at", "status", "summary", "test_output", "tests_passed", "tests_run", "timeout_ms", "tokens_in", "tokens_out", "tool_calls", "updated_at", "workflow_id", "workspace_id", "worktree_path" FROM "runs";
DROP TABLE "runs";
ALTER TABLE "new_runs" RENAME TO "runs";
CREATE INDEX "runs_workspace_id_status_priority_created_at_id_idx" ON "runs"("workspace_id", "status", "priority" DESC, "created_at", "id");
CREATE INDEX "runs_status_lease_expires_at_idx" ON "runs"("status", "lease_expires_at");
CREATE INDEX "runs_card_id_created_at_idx" ON "runs"("card_id", "created_at");
CREATE INDEX "runs_board_id_created_at_idx" ON "runs"("board_id", "created_at");
CREATE INDEX "runs_cleanup_retry_at_idx" ON "runs"("cleanup_retry_at");
CREATE INDEX "runs_parent_run_id_idx" ON "runs"("parent_run_id");
CREATE INDEX "runs_preferred_runner_id_status_idx" ON "runs"("preferred_runner_id", "status");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "review_comments_card_id_created_at_idx" ON "review_comments"("card_id", "created_at");

-- CreateIndex
CREATE INDEX "review_comments_run_id_idx" ON "review_comments"("run_id");
