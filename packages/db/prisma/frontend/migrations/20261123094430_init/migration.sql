-- CreateEnum
CREATE TYPE "SubmissionTargetStatus" AS ENUM ('queued', 'submitted', 'failed');

-- CreateTable
CREATE TABLE "instance" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "api_token" TEXT NOT NULL,
    "callback_token" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "instance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "federated_job" (
    "id" SERIAL NOT NULL,
    "instance_id" INTEGER NOT NULL,
    "remote_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "device_type" TEXT NOT NULL,
    "submitter" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "health" TEXT NOT NULL,
    "state_rank" INTEGER NOT NULL,
    "priority" INTEGER NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "actual_device" TEXT,
    "submit_time" TIMESTAMP(3) NOT NULL,
    "start_time" TIMESTAMP(3),
    "end_time" TIMESTAMP(3),
    "error_type" TEXT,
    "failure_comment" TEXT,
    "definition" TEXT NOT NULL,
    "health_check" BOOLEAN NOT NULL DEFAULT false,
    "last_callback_at" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "federated_job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "federated_test_case" (
    "id" SERIAL NOT NULL,
    "instance_id" INTEGER NOT NULL,
    "job_id" INTEGER NOT NULL,
    "remote_job_id" INTEGER NOT NULL,
    "remote_case_id" TEXT NOT NULL,
    "suite" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "result" TEXT NOT NULL,
    "measurement" DECIMAL(30,10),
    "units" TEXT NOT NULL DEFAULT '',
    "test_set" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "federated_test_case_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "submission" (
    "id" TEXT NOT NULL,
    "client_request_id" TEXT NOT NULL,
    "definition" TEXT NOT NULL,
    "device_type" TEXT NOT NULL,
    "job_name" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "submission_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "submission_target" (
    "id" TEXT NOT NULL,
    "submission_id" TEXT NOT NULL,
    "instance_id" INTEGER NOT NULL,
    "status" "SubmissionTargetStatus" NOT NULL DEFAULT 'queued',
    "remote_job_id" INTEGER,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "submission_target_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "instance_name_key" ON "instance"("name");

-- CreateIndex
CREATE INDEX "federated_job_submit_time_id_idx" ON "federated_job"("submit_time" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "federated_job_instance_id_submit_time_id_idx" ON "federated_job"("instance_id", "submit_time" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "federated_job_state_idx" ON "federated_job"("state");

-- CreateIndex
CREATE INDEX "federated_job_health_idx" ON "federated_job"("health");

-- CreateIndex
CREATE INDEX "federated_job_device_type_idx" ON "federated_job"("device_type");

-- CreateIndex
CREATE INDEX "federated_job_name_idx" ON "federated_job"("name");

-- CreateIndex
CREATE INDEX "federated_job_metadata_idx" ON "federated_job" USING GIN ("metadata" jsonb_path_ops);

-- CreateIndex
CREATE UNIQUE INDEX "federated_job_instance_id_remote_id_key" ON "federated_job"("instance_id", "remote_id");

-- CreateIndex
CREATE INDEX "federated_test_case_job_id_suite_idx" ON "federated_test_case"("job_id", "suite");

-- CreateIndex
CREATE UNIQUE INDEX "federated_test_case_instance_id_remote_job_id_remote_case_i_key" ON "federated_test_case"("instance_id", "remote_job_id", "remote_case_id");

-- CreateIndex
CREATE UNIQUE INDEX "submission_client_request_id_key" ON "submission"("client_request_id");

-- CreateIndex
CREATE UNIQUE INDEX "submission_target_submission_id_instance_id_key" ON "submission_target"("submission_id", "instance_id");

-- AddForeignKey
ALTER TABLE "federated_job" ADD CONSTRAINT "federated_job_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "federated_test_case" ADD CONSTRAINT "federated_test_case_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "federated_test_case" ADD CONSTRAINT "federated_test_case_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "federated_job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "submission_target" ADD CONSTRAINT "submission_target_submission_id_fkey" FOREIGN KEY ("submission_id") REFERENCES "submission"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "submission_target" ADD CONSTRAINT "submission_target_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;
