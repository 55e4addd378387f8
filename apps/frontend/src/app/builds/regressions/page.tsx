import type { Metadata } from "next";
import { Suspense } from "react";
import { RegressionsPage } from "~/components/builds/regressions";
import { Loading } from "~/components/status";

export const metadata: Metadata = { title: "Regressions" };

export default function Page() {
  return (
    <Suspense fallback={<Loading what="regressions" />}>
      <RegressionsPage />
    </Suspense>
  );
}
