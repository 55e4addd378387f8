-- CreateIndex
CREATE INDEX "test_cases_job_id_id_idx" ON "test_cases"("job_id", "id");
