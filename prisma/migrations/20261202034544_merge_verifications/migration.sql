-- CreateEnum
CREATE TYPE "VerificationStatus" AS ENUM ('queued', 'claimed', 'merged', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "merge_verifications" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "status" "VerificationStatus" NOT NULL DEFAULT 'queued',
    "base_commit" TEXT NOT NULL,
    "branch_commit" TEXT NOT NULL,
    "requested_by" TEXT NOT NULL,
    "cleanup" BOOLEAN NOT NULL DEFAULT true,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "runner_id" TEXT,
    "lease_token" TEXT,
    "lease_expires_at" TIMESTAMP(3),
    "report" JSONB,
    "reason" TEXT,
    "message" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "merge_verifications_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "merge_verifications_workspace_id_status_created_at_idx" ON "merge_verifications"("workspace_id", "status", "created_at");

-- CreateIndex
CREATE INDEX "merge_verifications_run_id_created_at_idx" ON "merge_verifications"("run_id", "created_at");

-- AddForeignKey
ALTER TABLE "merge_verifications" ADD CONSTRAINT "merge_verifications_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
