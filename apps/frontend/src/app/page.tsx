import type { Metadata } from "next";
import { DeviceTypeAvailability } from "~/components/labs/device-type-availability";
import { LabsOverview } from "~/components/labs/labs-overview";

export const metadata: Metadata = { title: "Labs" };

export default function LabsPage() {
  return (
    <>
      <LabsOverview />
      <DeviceTypeAvailability />
    </>
  );
}
