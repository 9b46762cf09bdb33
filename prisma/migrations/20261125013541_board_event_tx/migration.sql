-- AlterTable
ALTER TABLE "run_events" ADD COLUMN     "tx" xid8 DEFAULT pg_current_xact_id();

-- CreateIndex
CREATE INDEX "run_events_tx_idx" ON "run_events"("tx");
