-- AlterTable
ALTER TABLE "federated_job" ADD COLUMN     "build_id" INTEGER;

-- CreateTable
CREATE TABLE "build" (
    "id" SERIAL NOT NULL,
    "tree" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "commit" TEXT NOT NULL,
    "describe" TEXT,
    "url" TEXT,
    "kernel_version" TEXT,
    "first_seen" TIMESTAMP(3) NOT NULL,
    "order_key" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "build_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "build_test_status" (
    "build_id" INTEGER NOT NULL,
    "instance_id" INTEGER NOT NULL,
    "device_type" TEXT NOT NULL,
    "test" TEXT NOT NULL,
    "suite" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "test_set" TEXT,
    "tree" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "order_key" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "pass" INTEGER NOT NULL,
    "fail" INTEGER NOT NULL,
    "skip" INTEGER NOT NULL,
    "job_ids" INTEGER[],

    CONSTRAINT "build_test_status_pkey" PRIMARY KEY ("build_id","device_type","test","instance_id")
);

-- CreateTable
CREATE TABLE "regression" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "tree" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "device_type" TEXT NOT NULL,
    "test" TEXT NOT NULL,
    "suite" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "test_set" TEXT,
    "from_build_id" INTEGER NOT NULL,
    "to_build_id" INTEGER NOT NULL,
    "order_key" TEXT NOT NULL,
    "suspect" TEXT NOT NULL,
    "labs" TEXT[],
    "job_ids" INTEGER[],
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "regression_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "build_tree_branch_order_key_id_idx" ON "build"("tree", "branch", "order_key" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "build_tree_branch_commit_key" ON "build"("tree", "branch", "commit");

-- CreateIndex
CREATE INDEX "build_test_status_tree_branch_test_device_type_instance_id__idx" ON "build_test_status"("tree", "branch", "test", "device_type", "instance_id", "order_key", "build_id");

-- CreateIndex
CREATE INDEX "regression_tree_branch_order_key_id_idx" ON "regression"("tree", "branch", "order_key" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "regression_to_build_id_device_type_test_kind_key" ON "regression"("to_build_id", "device_type", "test", "kind");

-- CreateIndex
CREATE INDEX "federated_job_build_id_idx" ON "federated_job"("build_id");

-- AddForeignKey
ALTER TABLE "federated_job" ADD CONSTRAINT "federated_job_build_id_fkey" FOREIGN KEY ("build_id") REFERENCES "build"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "build_test_status" ADD CONSTRAINT "build_test_status_build_id_fkey" FOREIGN KEY ("build_id") REFERENCES "build"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "build_test_status" ADD CONSTRAINT "build_test_status_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;
