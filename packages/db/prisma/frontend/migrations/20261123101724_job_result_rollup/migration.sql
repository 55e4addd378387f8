-- AlterTable
ALTER TABLE "federated_job" ADD COLUMN     "fail_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "pass_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "skip_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "unknown_count" INTEGER NOT NULL DEFAULT 0;

-- Backfill the rollup from the test cases already stored (LAVA's own `lava` suite excluded).
UPDATE "federated_job" j SET
  "pass_count" = c.pass, "fail_count" = c.fail, "skip_count" = c.skip, "unknown_count" = c.unknown
FROM (
  SELECT job_id,
         count(*) FILTER (WHERE result = 'pass')::int AS pass,
         count(*) FILTER (WHERE result = 'fail')::int AS fail,
         count(*) FILTER (WHERE result = 'skip')::int AS skip,
         count(*) FILTER (WHERE result NOT IN ('pass', 'fail', 'skip'))::int AS unknown
  FROM "federated_test_case" WHERE suite <> 'lava' GROUP BY job_id
) c
WHERE c.job_id = j.id;
