-- AlterTable
ALTER TABLE "test_jobs" ADD COLUMN     "requested_device_id" INTEGER,
ADD COLUMN     "requested_worker_id" INTEGER;
