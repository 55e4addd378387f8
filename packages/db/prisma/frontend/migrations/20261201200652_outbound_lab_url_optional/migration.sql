-- AlterTable
ALTER TABLE "instance" ALTER COLUMN "url" DROP NOT NULL;
