import type { Metadata } from "next";
import { Suspense } from "react";
import { BuildComparePage } from "~/components/builds/build-compare";
import { Loading } from "~/components/status";

export const metadata: Metadata = { title: "Compare builds" };

export default function Page() {
  return (
    <Suspense fallback={<Loading what="comparison" />}>
      <BuildComparePage />
    </Suspense>
  );
}
