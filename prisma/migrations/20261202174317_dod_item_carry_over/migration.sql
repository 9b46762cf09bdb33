-- AlterTable
ALTER TABLE "dod_items" ADD COLUMN     "carry_over" BOOLEAN NOT NULL DEFAULT false;
