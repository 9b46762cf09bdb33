-- CreateEnum
CREATE TYPE "ApprovalPolicy" AS ENUM ('none', 'commands', 'writes');

-- CreateEnum
CREATE TYPE "ApprovalStatus" AS ENUM ('pending', 'granted', 'denied', 'expired');

-- AlterTable
ALTER TABLE "workflows" ADD COLUMN     "approval" "ApprovalPolicy" NOT NULL DEFAULT 'none',
ADD COLUMN     "approval_timeout_ms" INTEGER;

-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "approval" "ApprovalPolicy" NOT NULL DEFAULT 'none',
ADD COLUMN     "approval_timeout_ms" INTEGER;

-- CreateTable
CREATE TABLE "approval_requests" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "tool" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subject" JSONB NOT NULL,
    "status" "ApprovalStatus" NOT NULL DEFAULT 'pending',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "decided_at" TIMESTAMP(3),
    "decided_by" TEXT,
    "note" TEXT,

    CONSTRAINT "approval_requests_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "approval_requests_run_id_status_idx" ON "approval_requests"("run_id", "status");

-- AddForeignKey
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
