import type { Metadata } from "next";
import { JobPage } from "~/components/jobs/job-page";

export async function generateMetadata({ params }: { params: Promise<{ lab: string; id: string }> }): Promise<Metadata> {
  const { lab, id } = await params;
  return { title: `${decodeURIComponent(lab)} #${id}` };
}

export default async function Page({ params }: { params: Promise<{ lab: string; id: string }> }) {
  const { lab, id } = await params;
  return <JobPage lab={decodeURIComponent(lab)} id={id} />;
}
