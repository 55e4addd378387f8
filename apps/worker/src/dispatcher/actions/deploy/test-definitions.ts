import type { JobLog } from "../../job-log.ts";
import { confinedPath } from "../../confine.ts";
import { suiteName, type OverlayStage } from "../../overlay.ts";
import { fetchGitTestDefinition } from "./git-repo.ts";
import { fetchUrlTestDefinition } from "./url-repo.ts";

/**
 * Fetches every `from: git` and `from: url` definition of `stages` not fetched yet, into
 * `<jobDir>/git/<stage>/<suite>` (git) or `<jobDir>/url/<stage>/<suite>` (url), and records it on the
 * definition (`resolved`), so the overlay and the test shell's results see it.
 * @param o.maxDownloadBytes cap on a `from: url` download (the image downloads' cap)
 * @throws as {@link fetchGitTestDefinition} and {@link fetchUrlTestDefinition}
 */
export async function fetchTestDefinitions(
  stages: OverlayStage[],
  jobDir: string,
  o: { log: JobLog; deadlineMs: number; signal: AbortSignal; maxDownloadBytes: number },
): Promise<void> {
  for (const s of stages) {
    for (const d of s.definitions) {
      if (d.resolved) continue;
      if (d.ref.from === "git") {
        d.resolved = await fetchGitTestDefinition(d.ref, confinedPath(jobDir, "git clone", "git", `${s.stage}`, suiteName(d)), o);
        o.log.info(`${suiteName(d)}: ${d.ref.repository} at ${d.resolved.commitId} (${d.resolved.files.length} files)`);
      } else if (d.ref.from === "url") {
        d.resolved = await fetchUrlTestDefinition(d.ref, confinedPath(jobDir, "url download", "url", `${s.stage}`, suiteName(d)), o);
        o.log.info(`${suiteName(d)}: ${d.ref.repository} (${d.resolved.files.length} files)`);
      }
    }
  }
}
