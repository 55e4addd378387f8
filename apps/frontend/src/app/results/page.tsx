import type { Metadata } from "next";
import { Suspense } from "react";
import { ResultsMatrix } from "~/components/results/results-matrix";
import { Loading } from "~/components/status";

export const metadata: Metadata = { title: "Results" };

export default function ResultsPage() {
  return (
    <Suspense fallback={<Loading what="results" />}>
      <ResultsMatrix />
    </Suspense>
  );
}
