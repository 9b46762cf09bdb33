-- AlterTable
ALTER TABLE "review_comments" ADD COLUMN "end_line" INTEGER;
