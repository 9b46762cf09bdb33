-- AlterTable
ALTER TABLE "runs" ADD COLUMN "cleanup_retry_at" DATETIME;

-- CreateIndex
CREATE INDEX "runs_cleanup_retry_at_idx" ON "runs"("cleanup_retry_at");
