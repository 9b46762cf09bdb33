-- AlterTable
ALTER TABLE "boards" ADD COLUMN "archived_at" DATETIME;

-- AlterTable
ALTER TABLE "projects" ADD COLUMN "archived_at" DATETIME;

-- AlterTable
ALTER TABLE "dod_evidence" ADD COLUMN "validated_by_id" TEXT;

-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "email_verified" BOOLEAN NOT NULL DEFAULT false,
    "image" TEXT,
    "server_admin" BOOLEAN NOT NULL DEFAULT false,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "expires_at" DATETIME NOT NULL,
    "ip_address" TEXT,
    "user_agent" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "accounts" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "account_id" TEXT NOT NULL,
    "provider_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "access_token" TEXT,
    "refresh_token" TEXT,
    "id_token" TEXT,
    "access_token_expires_at" DATETIME,
    "refresh_token_expires_at" DATETIME,
    "scope" TEXT,
    "password" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    CONSTRAINT "accounts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "verifications" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "identifier" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "expires_at" DATETIME NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "rate_limits" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "last_request" BIGINT NOT NULL
);

-- CreateTable
CREATE TABLE "workspace_members" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "workspace_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "workspace_members_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "workspace_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "invitations" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "workspace_id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "email" TEXT,
    "token_hash" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" DATETIME NOT NULL,
    "accepted_at" DATETIME,
    "accepted_by" TEXT,
    "revoked_at" DATETIME,
    CONSTRAINT "invitations_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_cards" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "board_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "column" TEXT NOT NULL DEFAULT 'backlog',
    "position" REAL NOT NULL DEFAULT 0,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "labels" JSONB NOT NULL DEFAULT '[]',
    "budget_usd" REAL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "updated_by" TEXT,
    "archived_at" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    CONSTRAINT "cards_board_id_fkey" FOREIGN KEY ("board_id") REFERENCES "boards" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "cards_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_cards" ("board_id", "budget_usd", "column", "created_at", "description", "id", "labels", "position", "project_id", "title", "updated_at") SELECT "board_id", "budget_usd", "column", "created_at", "description", "id", "labels", "position", "project_id", "title", "updated_at" FROM "cards";
DROP TABLE "cards";
ALTER TABLE "new_cards" RENAME TO "cards";
CREATE INDEX "cards_board_id_column_position_idx" ON "cards"("board_id", "column", "position");
CREATE TABLE "new_workflows" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "workspace_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prompt_template" TEXT NOT NULL,
    "engine" TEXT NOT NULL DEFAULT 'anthropic',
    "model" TEXT,
    "command" TEXT,
    "max_turns" INTEGER,
    "timeout_ms" INTEGER,
    "budget_usd" REAL,
    "approval" TEXT NOT NULL DEFAULT 'none',
    "approval_timeout_ms" INTEGER,
    "dod" JSONB NOT NULL DEFAULT '[]',
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "require_independent_review" BOOLEAN NOT NULL DEFAULT false,
    "archived_at" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    CONSTRAINT "workflows_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_workflows" ("approval", "approval_timeout_ms", "budget_usd", "command", "created_at", "dod", "engine", "id", "is_default", "max_turns", "model", "name", "prompt_template", "timeout_ms", "updated_at", "workspace_id") SELECT "approval", "approval_timeout_ms", "budget_usd", "command", "created_at", "dod", "engine", "id", "is_default", "max_turns", "model", "name", "prompt_template", "timeout_ms", "updated_at", "workspace_id" FROM "workflows";
DROP TABLE "workflows";
ALTER TABLE "new_workflows" RENAME TO "workflows";
CREATE INDEX "workflows_workspace_id_idx" ON "workflows"("workspace_id");
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
    "created_by_id" TEXT,
    "require_independent_review" BOOLEAN NOT NULL DEFAULT false,
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
INSERT INTO "new_runs" ("agent", "approval", "approval_timeout_ms", "attempt", "base_branch", "board_id", "branch", "budget_usd", "cancel_requested_at", "cancel_requested_by", "card_id", "claimed_at", "cleanup_retry_at", "closed_by", "closed_reason", "command", "cost_usd", "created_at", "created_by", "diff", "diff_hash", "diff_stat", "duration_ms", "engine", "error", "error_reason", "event_seq", "files_changed", "finished_at", "head_commit", "heartbeat_at", "id", "kind", "labels", "lease_expires_at", "lease_token", "logs", "max_attempts", "max_turns", "merge_commit", "merged_at", "merged_by", "model", "parent_run_id", "preferred_runner_id", "priority", "project_id", "prompt", "runner_id", "session_id", "start_commit", "started_at", "status", "summary", "test_output", "tests_passed", "tests_run", "timeout_ms", "tokens_in", "tokens_out", "tool_calls", "updated_at", "workflow_id", "workspace_id", "worktree_path") SELECT "agent", "approval", "approval_timeout_ms", "attempt", "base_branch", "board_id", "branch", "budget_usd", "cancel_requested_at", "cancel_requested_by", "card_id", "claimed_at", "cleanup_retry_at", "closed_by", "closed_reason", "command", "cost_usd", "created_at", "created_by", "diff", "diff_hash", "diff_stat", "duration_ms", "engine", "error", "error_reason", "event_seq", "files_changed", "finished_at", "head_commit", "heartbeat_at", "id", "kind", "labels", "lease_expires_at", "lease_token", "logs", "max_attempts", "max_turns", "merge_commit", "merged_at", "merged_by", "model", "parent_run_id", "preferred_runner_id", "priority", "project_id", "prompt", "runner_id", "session_id", "start_commit", "started_at", "status", "summary", "test_output", "tests_passed", "tests_run", "timeout_ms", "tokens_in", "tokens_out", "tool_calls", "updated_at", "workflow_id", "workspace_id", "worktree_path" FROM "runs";
DROP TABLE "runs";
ALTER TABLE "new_runs" RENAME TO "runs";
CREATE INDEX "runs_workspace_id_status_priority_created_at_id_idx" ON "runs"("workspace_id", "status", "priority" DESC, "created_at", "id");
CREATE INDEX "runs_status_lease_expires_at_idx" ON "runs"("status", "lease_expires_at");
CREATE INDEX "runs_card_id_created_at_idx" ON "runs"("card_id", "created_at");
CREATE INDEX "runs_board_id_created_at_idx" ON "runs"("board_id", "created_at");
CREATE INDEX "runs_cleanup_retry_at_idx" ON "runs"("cleanup_retry_at");
CREATE INDEX "runs_parent_run_id_idx" ON "runs"("parent_run_id");
CREATE INDEX "runs_preferred_runner_id_status_idx" ON "runs"("preferred_runner_id", "status");
CREATE TABLE "new_api_tokens" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "workspace_id" TEXT,
    "user_id" TEXT,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" DATETIME,
    "revoked_at" DATETIME,
    CONSTRAINT "api_tokens_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_api_tokens" ("created_at", "id", "last_used_at", "name", "prefix", "revoked_at", "role", "token_hash", "workspace_id") SELECT "created_at", "id", "last_used_at", "name", "prefix", "revoked_at", "role", "token_hash", "workspace_id" FROM "api_tokens";
DROP TABLE "api_tokens";
ALTER TABLE "new_api_tokens" RENAME TO "api_tokens";
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");
CREATE INDEX "api_tokens_workspace_id_idx" ON "api_tokens"("workspace_id");
CREATE INDEX "api_tokens_user_id_idx" ON "api_tokens"("user_id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "sessions_token_key" ON "sessions"("token");

-- CreateIndex
CREATE INDEX "sessions_user_id_idx" ON "sessions"("user_id");

-- CreateIndex
CREATE INDEX "accounts_user_id_idx" ON "accounts"("user_id");

-- CreateIndex
CREATE INDEX "verifications_identifier_idx" ON "verifications"("identifier");

-- CreateIndex
CREATE UNIQUE INDEX "rate_limits_key_key" ON "rate_limits"("key");

-- CreateIndex
CREATE INDEX "workspace_members_user_id_idx" ON "workspace_members"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "workspace_members_workspace_id_user_id_key" ON "workspace_members"("workspace_id", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations"("token_hash");

-- CreateIndex
CREATE INDEX "invitations_workspace_id_idx" ON "invitations"("workspace_id");
