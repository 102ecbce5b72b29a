-- AlterTable
ALTER TABLE "resellers" ADD COLUMN     "cut_off_version" INTEGER NOT NULL DEFAULT 0;
