import type { Metadata } from "next";
import { LabsOverview } from "~/components/labs/labs-overview";

export const metadata: Metadata = { title: "Labs" };

export default function LabsPage() {
  return <LabsOverview />;
}
