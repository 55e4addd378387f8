"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useTRPC } from "~/trpc/react";

const LINKS = [
  { href: "/", label: "Labs" },
  { href: "/jobs", label: "Jobs" },
  { href: "/results", label: "Results" },
  { href: "/builds", label: "Builds" },
  { href: "/submit", label: "Submit" },
];

/** Top navigation bar; highlights the current section and shows who is logged in. */
export function Nav() {
  const path = usePathname();
  const trpc = useTRPC();
  const me = useQuery({ ...trpc.auth.me.queryOptions(), staleTime: 60_000 });
  const active = (href: string) =>
    href === "/" ? path === "/" : path.startsWith(href) || (href === "/submit" && path.startsWith("/submissions"));
  const links = me.data?.isSuperuser ? [...LINKS, { href: "/admin", label: "Admin" }] : LINKS;
  return (
    <header className="topbar">
      <Link href="/" className="brand">
        <span className="brand-mark">◆</span> Magma
        <span className="brand-sub">federated LAVA labs</span>
      </Link>
      <nav>
        {links.map((l) => (
          <Link key={l.href} href={l.href} className={active(l.href) ? "nav-link active" : "nav-link"}>
            {l.label}
          </Link>
        ))}
      </nav>
      <div className="nav-user" data-testid="nav-user">
        {me.data ? (
          <>
            <Link href="/account" className="nav-link" data-testid="nav-username">
              {me.data.username}
            </Link>
            <form method="post" action="/api/auth/logout">
              <button className="btn btn-mini" type="submit">
                Log out
              </button>
            </form>
          </>
        ) : me.isSuccess && path !== "/login" ? (
          <Link href={`/login?next=${encodeURIComponent(path)}`} className="nav-link">
            Log in
          </Link>
        ) : null}
      </div>
    </header>
  );
}
