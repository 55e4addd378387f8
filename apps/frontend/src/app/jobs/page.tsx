import type { Metadata } from "next";
import { Suspense } from "react";
import { JobList } from "~/components/jobs/job-list";
import { Loading } from "~/components/status";

export const metadata: Metadata = { title: "Jobs" };

export default function JobsPage() {
  return (
    <Suspense fallback={<Loading what="jobs" />}>
      <JobList />
    </Suspense>
  );
}
