import type { Metadata } from "next";
import { LabHealthBoard } from "~/components/labs/lab-health-board";

export const metadata: Metadata = { title: "Lab health" };

export default function LabHealthPage() {
  return <LabHealthBoard />;
}
