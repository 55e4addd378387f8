import type { Metadata } from "next";
import { Suspense } from "react";
import { TestHistoryPage } from "~/components/builds/test-history";
import { Loading } from "~/components/status";

export const metadata: Metadata = { title: "Test history" };

export default function Page() {
  return (
    <Suspense fallback={<Loading what="history" />}>
      <TestHistoryPage />
    </Suspense>
  );
}
