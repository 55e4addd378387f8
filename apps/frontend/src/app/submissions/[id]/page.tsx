import type { Metadata } from "next";
import { SubmissionStatus } from "~/components/submit/submission-status";

export const metadata: Metadata = { title: "Submission" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <SubmissionStatus id={id} />;
}
