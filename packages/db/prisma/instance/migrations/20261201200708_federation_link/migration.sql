-- CreateTable
CREATE TABLE "federation_link" (
    "id" SERIAL NOT NULL,
    "frontend_url" TEXT NOT NULL,
    "lab" TEXT NOT NULL,
    "credential" TEXT NOT NULL,
    "signing_secret" TEXT NOT NULL,
    "enrolled_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "federation_link_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "federation_link_frontend_url_key" ON "federation_link"("frontend_url");
