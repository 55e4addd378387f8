import { usePathname, useRouter, useSearchParams } from "next/navigation";

/** The page's URL parameters and a setter that keeps the others (empty value = removed). */
export function useUrlParams() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const set = (changes: Record<string, string | undefined>) => {
    const p = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(changes)) {
      if (v) p.set(k, v);
      else p.delete(k);
    }
    const s = p.toString();
    router.push(s ? `${pathname}?${s}` : pathname);
  };
  return { params, get: (k: string) => params.get(k) || undefined, set };
}
