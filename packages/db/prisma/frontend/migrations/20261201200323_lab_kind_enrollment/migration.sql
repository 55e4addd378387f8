-- AlterTable
ALTER TABLE "instance" ADD COLUMN     "enrolled_at" TIMESTAMP(3),
ADD COLUMN     "enrollment_token_hash" TEXT,
ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'magma',
ADD COLUMN     "last_contact_at" TIMESTAMP(3);

-- CreateIndex
CREATE UNIQUE INDEX "instance_enrollment_token_hash_key" ON "instance"("enrollment_token_hash");
