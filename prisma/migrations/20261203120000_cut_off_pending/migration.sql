-- AlterTable
ALTER TABLE "resellers" ADD COLUMN     "cut_off_pending" BOOLEAN NOT NULL DEFAULT false;
