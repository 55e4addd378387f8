-- CreateTable
CREATE TABLE "job_transfer" (
    "job_id" INTEGER NOT NULL,
    "cases_total" INTEGER NOT NULL,
    "log_total" INTEGER NOT NULL,
    "cases_after_id" INTEGER NOT NULL DEFAULT 0,
    "cases_done" BOOLEAN NOT NULL DEFAULT false,
    "log_next_line" INTEGER NOT NULL DEFAULT 0,
    "log_done" BOOLEAN NOT NULL DEFAULT false,
    "cases_stored" INTEGER NOT NULL DEFAULT 0,
    "lines_stored" INTEGER NOT NULL DEFAULT 0,
    "done_at" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "job_transfer_pkey" PRIMARY KEY ("job_id")
);

-- CreateTable
CREATE TABLE "federated_log_chunk" (
    "job_id" INTEGER NOT NULL,
    "first_line" INTEGER NOT NULL,
    "line_count" INTEGER NOT NULL,
    "text" TEXT NOT NULL,

    CONSTRAINT "federated_log_chunk_pkey" PRIMARY KEY ("job_id","first_line")
);

-- CreateIndex
CREATE INDEX "job_transfer_done_at_idx" ON "job_transfer"("done_at");

-- AddForeignKey
ALTER TABLE "job_transfer" ADD CONSTRAINT "job_transfer_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "federated_job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "federated_log_chunk" ADD CONSTRAINT "federated_log_chunk_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "federated_job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
