import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Nav } from "~/components/nav";
import { TRPCReactProvider } from "~/trpc/react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Magma", template: "%s · Magma" },
  description: "Federated LAVA test labs: jobs, results and cross-lab submission",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <TRPCReactProvider>
          <Nav />
          <main className="page">{children}</main>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
