-- AlterTable
ALTER TABLE "federated_test_case" ADD COLUMN     "log_start_line" INTEGER;
