-- CreateEnum
CREATE TYPE "WorkerState" AS ENUM ('Online', 'Offline');

-- CreateEnum
CREATE TYPE "WorkerHealth" AS ENUM ('Active', 'Maintenance', 'Retired');

-- CreateEnum
CREATE TYPE "DeviceState" AS ENUM ('Idle', 'Reserved', 'Running');

-- CreateEnum
CREATE TYPE "DeviceHealth" AS ENUM ('Good', 'Unknown', 'Looping', 'Bad', 'Maintenance', 'Retired');

-- CreateEnum
CREATE TYPE "HealthDenominator" AS ENUM ('hours', 'jobs');

-- CreateEnum
CREATE TYPE "JobState" AS ENUM ('Submitted', 'Scheduling', 'Scheduled', 'Running', 'Canceling', 'Finished');

-- CreateEnum
CREATE TYPE "JobHealth" AS ENUM ('Unknown', 'Complete', 'Incomplete', 'Canceled');

-- CreateEnum
CREATE TYPE "TestResult" AS ENUM ('pass', 'fail', 'skip', 'unknown');

-- CreateEnum
CREATE TYPE "OutboxState" AS ENUM ('pending', 'delivered', 'failed');

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "username" TEXT NOT NULL,
    "is_superuser" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "secret" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used" TIMESTAMPTZ(6),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workers" (
    "id" SERIAL NOT NULL,
    "hostname" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "description" TEXT,
    "state" "WorkerState" NOT NULL DEFAULT 'Offline',
    "health" "WorkerHealth" NOT NULL DEFAULT 'Active',
    "last_ping" TIMESTAMPTZ(6),
    "version" TEXT,
    "job_limit" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "workers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "device_types" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "display" BOOLEAN NOT NULL DEFAULT true,
    "health_check_definition" TEXT,
    "health_frequency" INTEGER NOT NULL DEFAULT 24,
    "health_denominator" "HealthDenominator" NOT NULL DEFAULT 'hours',
    "disable_health_check" BOOLEAN NOT NULL DEFAULT false,
    "dictionary" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "device_types_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "devices" (
    "id" SERIAL NOT NULL,
    "hostname" TEXT NOT NULL,
    "description" TEXT,
    "device_type_id" INTEGER NOT NULL,
    "worker_id" INTEGER,
    "dictionary" JSONB NOT NULL DEFAULT '{}',
    "state" "DeviceState" NOT NULL DEFAULT 'Idle',
    "health" "DeviceHealth" NOT NULL DEFAULT 'Maintenance',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "current_job_id" INTEGER,
    "last_health_report_job_id" INTEGER,

    CONSTRAINT "devices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "test_jobs" (
    "id" SERIAL NOT NULL,
    "submitter_id" INTEGER NOT NULL,
    "description" TEXT NOT NULL,
    "requested_device_type_id" INTEGER NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "priority" INTEGER NOT NULL DEFAULT 50,
    "visibility" TEXT NOT NULL DEFAULT 'public',
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "notify" JSONB,
    "definition" TEXT NOT NULL,
    "original_definition" TEXT NOT NULL,
    "state" "JobState" NOT NULL DEFAULT 'Submitted',
    "health" "JobHealth" NOT NULL DEFAULT 'Unknown',
    "actual_device_id" INTEGER,
    "token" TEXT NOT NULL,
    "submit_time" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "start_time" TIMESTAMPTZ(6),
    "end_time" TIMESTAMPTZ(6),
    "failure_comment" TEXT,
    "error_type" TEXT,
    "health_check" BOOLEAN NOT NULL DEFAULT false,
    "idempotency_key" TEXT,
    "log_line_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "test_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "log_lines" (
    "job_id" INTEGER NOT NULL,
    "index" INTEGER NOT NULL,
    "dt" TEXT NOT NULL,
    "lvl" TEXT NOT NULL,
    "msg" JSON NOT NULL,

    CONSTRAINT "log_lines_pkey" PRIMARY KEY ("job_id","index")
);

-- CreateTable
CREATE TABLE "test_suites" (
    "id" SERIAL NOT NULL,
    "job_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "test_suites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "test_cases" (
    "id" SERIAL NOT NULL,
    "job_id" INTEGER NOT NULL,
    "suite_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "result" "TestResult" NOT NULL,
    "measurement" DECIMAL(30,10),
    "units" TEXT NOT NULL DEFAULT '',
    "test_set" TEXT,
    "start_log_line" INTEGER,
    "end_log_line" INTEGER,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "logged" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "log_line_index" INTEGER NOT NULL,

    CONSTRAINT "test_cases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "callback_outbox" (
    "id" SERIAL NOT NULL,
    "job_id" INTEGER NOT NULL,
    "transition" TEXT NOT NULL,
    "callback_index" INTEGER NOT NULL,
    "url" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "content_type" TEXT NOT NULL DEFAULT 'json',
    "dataset" TEXT NOT NULL DEFAULT 'minimal',
    "token" TEXT,
    "body" TEXT,
    "state" "OutboxState" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(6),

    CONSTRAINT "callback_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_secret_key" ON "api_tokens"("secret");

-- CreateIndex
CREATE INDEX "api_tokens_user_id_description_idx" ON "api_tokens"("user_id", "description");

-- CreateIndex
CREATE UNIQUE INDEX "workers_hostname_key" ON "workers"("hostname");

-- CreateIndex
CREATE UNIQUE INDEX "device_types_name_key" ON "device_types"("name");

-- CreateIndex
CREATE UNIQUE INDEX "devices_hostname_key" ON "devices"("hostname");

-- CreateIndex
CREATE UNIQUE INDEX "devices_current_job_id_key" ON "devices"("current_job_id");

-- CreateIndex
CREATE INDEX "devices_device_type_id_state_health_idx" ON "devices"("device_type_id", "state", "health");

-- CreateIndex
CREATE INDEX "test_jobs_queue_idx" ON "test_jobs"("state", "requested_device_type_id", "priority" DESC, "submit_time", "id");

-- CreateIndex
CREATE INDEX "test_jobs_actual_device_id_state_idx" ON "test_jobs"("actual_device_id", "state");

-- CreateIndex
CREATE INDEX "test_jobs_id_desc_idx" ON "test_jobs"("id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "test_jobs_submitter_id_idempotency_key_key" ON "test_jobs"("submitter_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "test_suites_job_id_name_key" ON "test_suites"("job_id", "name");

-- CreateIndex
CREATE INDEX "test_cases_suite_id_idx" ON "test_cases"("suite_id");

-- CreateIndex
CREATE UNIQUE INDEX "test_cases_job_id_log_line_index_key" ON "test_cases"("job_id", "log_line_index");

-- CreateIndex
CREATE INDEX "callback_outbox_state_next_attempt_at_idx" ON "callback_outbox"("state", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "callback_outbox_job_id_transition_callback_index_key" ON "callback_outbox"("job_id", "transition", "callback_index");

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_device_type_id_fkey" FOREIGN KEY ("device_type_id") REFERENCES "device_types"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_worker_id_fkey" FOREIGN KEY ("worker_id") REFERENCES "workers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_current_job_id_fkey" FOREIGN KEY ("current_job_id") REFERENCES "test_jobs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_last_health_report_job_id_fkey" FOREIGN KEY ("last_health_report_job_id") REFERENCES "test_jobs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "test_jobs" ADD CONSTRAINT "test_jobs_submitter_id_fkey" FOREIGN KEY ("submitter_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "test_jobs" ADD CONSTRAINT "test_jobs_requested_device_type_id_fkey" FOREIGN KEY ("requested_device_type_id") REFERENCES "device_types"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "test_jobs" ADD CONSTRAINT "test_jobs_actual_device_id_fkey" FOREIGN KEY ("actual_device_id") REFERENCES "devices"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "log_lines" ADD CONSTRAINT "log_lines_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "test_jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "test_suites" ADD CONSTRAINT "test_suites_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "test_jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "test_cases" ADD CONSTRAINT "test_cases_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "test_jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "test_cases" ADD CONSTRAINT "test_cases_suite_id_fkey" FOREIGN KEY ("suite_id") REFERENCES "test_suites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "callback_outbox" ADD CONSTRAINT "callback_outbox_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "test_jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
