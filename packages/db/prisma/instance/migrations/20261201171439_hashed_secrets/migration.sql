-- Secrets at rest: API, worker and job tokens become SHA-256 digests (hex of the UTF-8 bytes, what
-- digestSecret() computes), so no database dump holds a live token. Existing plaintext rows are
-- converted in place and the plaintext columns dropped. Existing tokens keep working.

-- API tokens: digest, plus an optional sealed copy (written by the application only when it has
-- MAGMA_SECRET_KEY; rows converted here have none).
ALTER TABLE "api_tokens" ADD COLUMN "secret_digest" TEXT, ADD COLUMN "secret_sealed" TEXT;
UPDATE "api_tokens" SET "secret_digest" = encode(sha256(convert_to("secret", 'UTF8')), 'hex');
ALTER TABLE "api_tokens" ALTER COLUMN "secret_digest" SET NOT NULL;

-- Callback outbox: secrets leave the rows. A literal token stays in "token" (it is in the job
-- definition anyway); a resolved API-token secret becomes a reference ("token_id"); the federation
-- token header is added at delivery time from the configuration.
ALTER TABLE "callback_outbox" ADD COLUMN "frozen_payload" JSON, ADD COLUMN "token_header" TEXT, ADD COLUMN "token_id" INTEGER;
UPDATE "callback_outbox" o SET "token_id" = t."id", "token" = NULL, "body" = NULL, "headers" = '{}'::jsonb
  FROM "api_tokens" t WHERE o."token" = t."secret";
UPDATE "callback_outbox" SET "headers" = "headers" - 'x-magma-token';
UPDATE "callback_outbox" SET "token" = NULL, "body" = NULL, "headers" = '{}'::jsonb WHERE "state" <> 'pending';

DROP INDEX "api_tokens_secret_key";
ALTER TABLE "api_tokens" DROP COLUMN "secret";
CREATE UNIQUE INDEX "api_tokens_secret_digest_key" ON "api_tokens"("secret_digest");
ALTER TABLE "callback_outbox" ADD CONSTRAINT "callback_outbox_token_id_fkey" FOREIGN KEY ("token_id") REFERENCES "api_tokens"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Jobs: the digest of the old token stays valid, so a worker already holding the token of a running
-- job keeps reporting it; the nonce is fresh (never the old token). New jobs get their digest when a
-- ping first hands them out (token = HMAC(worker token, job:<id>:<nonce>)).
ALTER TABLE "test_jobs" ADD COLUMN "token_digest" TEXT, ADD COLUMN "token_nonce" TEXT;
UPDATE "test_jobs" SET "token_nonce" = replace(gen_random_uuid()::text, '-', ''), "token_digest" = encode(sha256(convert_to("token", 'UTF8')), 'hex');
ALTER TABLE "test_jobs" ALTER COLUMN "token_nonce" SET NOT NULL;
ALTER TABLE "test_jobs" DROP COLUMN "token";

-- Workers
ALTER TABLE "workers" ADD COLUMN "token_digest" TEXT;
UPDATE "workers" SET "token_digest" = encode(sha256(convert_to("token", 'UTF8')), 'hex');
ALTER TABLE "workers" ALTER COLUMN "token_digest" SET NOT NULL;
ALTER TABLE "workers" DROP COLUMN "token";
