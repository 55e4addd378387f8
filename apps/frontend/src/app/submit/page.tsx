import type { Metadata } from "next";
import { SubmitForm } from "~/components/submit/submit-form";

export const metadata: Metadata = { title: "Submit" };

export default function SubmitPage() {
  return <SubmitForm />;
}
