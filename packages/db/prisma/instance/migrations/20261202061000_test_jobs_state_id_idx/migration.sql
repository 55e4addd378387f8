-- CreateIndex
CREATE INDEX "test_jobs_state_id_idx" ON "test_jobs"("state", "id");
