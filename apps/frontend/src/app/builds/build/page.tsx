import type { Metadata } from "next";
import { Suspense } from "react";
import { BuildPage } from "~/components/builds/build-page";
import { Loading } from "~/components/status";

export const metadata: Metadata = { title: "Build" };

export default function Page() {
  return (
    <Suspense fallback={<Loading what="build" />}>
      <BuildPage />
    </Suspense>
  );
}
