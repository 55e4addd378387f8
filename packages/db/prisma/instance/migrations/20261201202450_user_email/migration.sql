-- AlterTable
ALTER TABLE "users" ADD COLUMN     "email" TEXT NOT NULL DEFAULT '';
