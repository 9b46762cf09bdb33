-- AlterTable
ALTER TABLE "projects" ADD COLUMN     "sandbox" JSONB;

-- AlterTable
ALTER TABLE "runners" ADD COLUMN     "sandbox" JSONB;
