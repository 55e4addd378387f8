-- CreateIndex
CREATE INDEX "test_jobs_end_time_id_idx" ON "test_jobs"("end_time", "id");
