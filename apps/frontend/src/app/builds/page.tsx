import type { Metadata } from "next";
import { Suspense } from "react";
import { BuildsHome } from "~/components/builds/builds-home";
import { Loading } from "~/components/status";

export const metadata: Metadata = { title: "Builds" };

export default function Page() {
  return (
    <Suspense fallback={<Loading what="builds" />}>
      <BuildsHome />
    </Suspense>
  );
}
