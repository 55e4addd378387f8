-- AlterTable
ALTER TABLE "device_types" ADD COLUMN     "template_jinja2" TEXT;

-- AlterTable
ALTER TABLE "devices" ADD COLUMN     "dictionary_jinja2" TEXT;
