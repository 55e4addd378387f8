import type { Metadata } from "next";
import { SubmitForm } from "~/components/submit/submit-form";
import { env } from "~/env";

export const metadata: Metadata = { title: "Submit" };
// the example job names this deployment's image server, read at request time
export const dynamic = "force-dynamic";

export default function SubmitPage() {
  return <SubmitForm imagesUrl={env().MAGMA_EXAMPLE_IMAGES_URL} />;
}
