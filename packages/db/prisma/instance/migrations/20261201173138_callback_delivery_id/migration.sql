-- Signed callbacks: each outbox row gets a delivery id, sent as X-Magma-Delivery on every attempt
-- (stable across retries) so a receiver can refuse a replayed callback. Existing rows get one too.

-- AlterTable
ALTER TABLE "callback_outbox" ADD COLUMN     "delivery_id" UUID NOT NULL DEFAULT gen_random_uuid();

-- CreateIndex
CREATE UNIQUE INDEX "callback_outbox_delivery_id_key" ON "callback_outbox"("delivery_id");
