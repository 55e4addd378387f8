/**
 * The repository is self-contained: no tracked file reads or names a path outside the clone, so
 * `npm test` passes on a fresh clone with nothing beside it. Every tracked text file is scanned for
 *   - relative paths (`../…`) that, resolved from the file's folder, leave the repository (not in
 *     Markdown, whose examples quote hostile job names such as `../x`);
 *   - absolute paths under the folders where a developer's other checkouts and notes live
 *     (/work, /home, /root), which no user's machine has;
 *   - references to reading material kept outside the repository (a sibling `shared/` folder,
 *     "conventions" documents): comments explain in their own words instead.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
// this file spells the forbidden forms out in its own checks of the scanner
const SELF = "tests/repo/self-contained.test.ts";
const BINARY = /\.(png|jpe?g|gif|ico|svg|woff2?|gz|cpio|tar|zip|pdf)$/i;

/** Tracked text files (repository-relative paths), without the lockfile (registry URLs only) and SELF. */
function trackedFiles(): string[] {
  return execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && !BINARY.test(f) && f !== "package-lock.json" && f !== SELF);
}

interface Finding {
  file: string;
  line: number;
  text: string;
  why: string;
}

const FORBIDDEN: { re: RegExp; why: string }[] = [
  { re: /(^|[^\w.-])\/(work|home|root)\/[\w.-]/, why: "absolute path outside the repository" },
  { re: /(^|[^\w-])shared\/(reference|notes|tools|hooks|conventions)/, why: "names the reading material beside the repository" },
  { re: /conventions\.md|\bconventions? (§|\d)/i, why: "cites a conventions document that is not in the repository" },
];
// a relative path token: one or more ../ then an optional name (quotes, spaces and brackets end it)
const RELATIVE = /(?:^|[\s"'`(=:,[])((?:\.\.\/)+[\w@.-]*)/g;

/** Lines of `text` in `file` that read or name a path outside ROOT. */
export function findEscapes(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  const dir = path.dirname(path.join(ROOT, file));
  text.split("\n").forEach((line, i) => {
    for (const { re, why } of FORBIDDEN) if (re.test(line)) out.push({ file, line: i + 1, text: line.trim(), why });
    // prose (Markdown) quotes hostile job names such as '../x' as examples; the forms above still apply to it
    if (file.endsWith(".md")) return;
    for (const m of line.matchAll(RELATIVE)) {
      const target = path.resolve(dir, m[1]!);
      if (target !== ROOT && !target.startsWith(ROOT + path.sep))
        out.push({ file, line: i + 1, text: line.trim(), why: `'${m[1]}' resolves outside the repository` });
    }
  });
  return out;
}

describe("the repository is self-contained", () => {
  it("the scanner catches what it must (and passes paths inside the repository)", () => {
    expect(findEscapes("packages/protocol/src/x.test.ts", `const s = path.resolve(root, "../${"shared"}/reference/lava");`)).not.toEqual(
      [],
    );
    expect(findEscapes("apps/worker/test/x.ts", `const SAMPLE = "/work/${"shared"}/jobs/a.yaml";`)[0]?.why).toBe(
      "absolute path outside the repository",
    );
    expect(findEscapes("apps/x.ts", "// see convention 4")[0]?.why).toContain("conventions");
    expect(findEscapes("apps/x/src/a.ts", 'readFileSync("../../../../elsewhere/notes.md")')[0]?.why).toContain("resolves outside");
    expect(findEscapes("README.md", "a job image named `../x` is refused")).toEqual([]);
    expect(findEscapes("apps/worker/src/a/b.ts", 'import { x } from "../../test/helpers.ts";')).toEqual([]);
    expect(findEscapes("apps/worker/src/x.ts", 'spawn("/usr/bin/qemu-system-x86_64", ["-kernel", "/tmp/k"]);')).toEqual([]);
  });

  it("no tracked file reads or names a path outside the repository", () => {
    const files = trackedFiles();
    expect(files.length).toBeGreaterThan(100);
    const findings = files.flatMap((f) => findEscapes(f, readFileSync(path.join(ROOT, f), "utf8")));
    expect(findings.map((f) => `${f.file}:${f.line}: ${f.why}: ${f.text.slice(0, 160)}`)).toEqual([]);
  });
});
