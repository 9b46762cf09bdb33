-- CreateEnum
CREATE TYPE "RunKind" AS ENUM ('run', 'follow_up', 'retry', 'resolve_conflicts');

-- CreateEnum
CREATE TYPE "ReviewSide" AS ENUM ('old', 'new');

-- AlterTable
ALTER TABLE "cards" ADD COLUMN     "budget_usd" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "head_commit" TEXT,
ADD COLUMN     "kind" "RunKind" NOT NULL DEFAULT 'run',
ADD COLUMN     "parent_run_id" TEXT,
ADD COLUMN     "preferred_runner_id" TEXT,
ADD COLUMN     "session_id" TEXT,
ADD COLUMN     "start_commit" TEXT;

-- AlterTable
ALTER TABLE "dod_evidence" ADD COLUMN     "commit" TEXT;

-- CreateTable
CREATE TABLE "run_transcripts" (
    "run_id" TEXT NOT NULL,
    "engine" "Engine" NOT NULL,
    "messages" JSONB NOT NULL,
    "chars" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "run_transcripts_pkey" PRIMARY KEY ("run_id")
);

-- CreateTable
CREATE TABLE "review_comments" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "card_id" TEXT NOT NULL,
    "commit" TEXT,
    "path" TEXT NOT NULL,
    "line" INTEGER NOT NULL,
    "side" "ReviewSide" NOT NULL DEFAULT 'new',
    "line_text" TEXT NOT NULL DEFAULT '',
    "body" TEXT NOT NULL,
    "author" TEXT NOT NULL,
    "sent_in_run_id" TEXT,
    "resolved_at" TIMESTAMP(3),
    "resolved_by" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "review_comments_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "review_comments_card_id_created_at_idx" ON "review_comments"("card_id", "created_at");

-- CreateIndex
CREATE INDEX "review_comments_run_id_idx" ON "review_comments"("run_id");

-- CreateIndex
CREATE INDEX "runs_parent_run_id_idx" ON "runs"("parent_run_id");

-- CreateIndex
CREATE INDEX "runs_preferred_runner_id_status_idx" ON "runs"("preferred_runner_id", "status");

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_parent_run_id_fkey" FOREIGN KEY ("parent_run_id") REFERENCES "runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_transcripts" ADD CONSTRAINT "run_transcripts_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "review_comments" ADD CONSTRAINT "review_comments_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "review_comments" ADD CONSTRAINT "review_comments_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "cards"("id") ON DELETE CASCADE ON UPDATE CASCADE;
