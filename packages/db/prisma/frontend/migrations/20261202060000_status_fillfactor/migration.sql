-- Room on each page for the updated versions of a row: ingest adds every new Complete job's counts
-- to the statuses of its build (pass, fail, skip, status, job_ids, none of them indexed), and with
-- free space on the page PostgreSQL writes those updates as heap-only tuples instead of new entries
-- in both wide indexes.
ALTER TABLE "build_test_status" SET (fillfactor = 50);
