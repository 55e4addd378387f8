"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Labs" },
  { href: "/jobs", label: "Jobs" },
  { href: "/results", label: "Results" },
  { href: "/builds", label: "Builds" },
  { href: "/submit", label: "Submit" },
];

/** Top navigation bar; highlights the current section. */
export function Nav() {
  const path = usePathname();
  const active = (href: string) => (href === "/" ? path === "/" : path.startsWith(href) || (href === "/submit" && path.startsWith("/submissions")));
  return (
    <header className="topbar">
      <Link href="/" className="brand">
        <span className="brand-mark">◆</span> Magma
        <span className="brand-sub">federated LAVA labs</span>
      </Link>
      <nav>
        {LINKS.map((l) => (
          <Link key={l.href} href={l.href} className={active(l.href) ? "nav-link active" : "nav-link"}>
            {l.label}
          </Link>
        ))}
      </nav>
    </header>
  );
}
