-- AlterTable
ALTER TABLE "instance" ADD COLUMN     "callback_token_name" TEXT;
