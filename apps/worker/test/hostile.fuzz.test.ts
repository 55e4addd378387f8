import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleSession, LINE_CUT_MARKER, MAX_LINE_CHARS, type TransportHandlers } from "../src/connections/console-session.ts";
import { HttpDownloadAction } from "../src/dispatcher/actions/deploy/download.ts";
import { confinedPath } from "../src/dispatcher/confine.ts";
import { JobError } from "../src/errors.ts";
import { Pipeline, runAction } from "../src/dispatcher/pipeline.ts";
import { jobContext } from "./helpers.ts";

/**
 * Property-based fuzzing of the worker against hostile jobs and DUTs: names that want to leave
 * the job directory (checked on the real file system: nothing appears outside it), and console
 * output made of binary, ANSI storms, carriage returns and endless lines (no throw, bounded lines,
 * the console still matches afterwards). `npm run fuzz` runs MAGMA_FUZZ_RUNS=10000.
 */
const RUNS = Number(process.env["MAGMA_FUZZ_RUNS"] ?? 100);
const TIMEOUT_MS = Math.max(60_000, RUNS * 60);

let root: string;
let server: Server;
let base: string;
beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "magma-hostile-fuzz-"));
  server = createServer((req, res) => res.writeHead(200, { "content-length": 5 }).end(req.method === "HEAD" ? undefined : "bytes"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

const pathy = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc
    .array(fc.constantFrom("..", ".", "/", "a", "kernel", "\\", "%2e%2e", "~", "-", " ", "//", "\0"), { maxLength: 8 })
    .map((a) => a.join("")),
);

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

describe("worker against hostile jobs (property-based)", () => {
  it("confinedPath: a path inside the job directory, or a JobError", { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(pathy, pathy, (a, b) => {
        try {
          const p = confinedPath("/w/jobs/1", "x", a, b);
          expect(p.startsWith("/w/jobs/1/")).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(JobError);
        }
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it("a download under any image name writes nothing outside the job directory", { timeout: TIMEOUT_MS }, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(pathy, fc.constantFrom("", "tftp", "../x", "/abs"), async (name, subdir) => {
        const sandbox = path.join(root, `d${n++}`);
        const jobDir = path.join(sandbox, "worker", "jobs", "1");
        mkdirSync(jobDir, { recursive: true });
        const ctx = jobContext(jobDir);
        const action = new HttpDownloadAction(name, { url: `${base}/image` }, subdir);
        new Pipeline().add(action, { job: { minutes: 1 } });
        await runAction(action, ctx, undefined, Date.now() + 10_000, new AbortController().signal).catch((e: unknown) =>
          expect(e).toBeInstanceOf(JobError),
        );
        for (const p of tree(sandbox))
          expect(
            path.join(sandbox, p) === path.join(sandbox, "worker") ||
              path.join(sandbox, p) === path.join(sandbox, "worker", "jobs") ||
              path.join(sandbox, p).startsWith(jobDir),
          ).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it(
    "hostile console output: never a throw, lines bounded, and the console still matches afterwards",
    { timeout: TIMEOUT_MS },
    async () => {
      const chunk = fc.oneof(
        fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
        fc
          .array(
            fc.constantFrom(
              "\x1b[",
              "\x1b]",
              "\x1b",
              "\x07",
              "31m",
              "6n",
              "\r",
              "\n",
              "\r\n",
              "\0",
              "é",
              "\ud83d",
              "<LAVA_SIGNAL_",
              "x".repeat(5000),
            ),
            { maxLength: 50 },
          )
          .map((a) => Buffer.from(a.join(""))),
        fc.constant(Buffer.alloc(70_000, 0x61)),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(chunk, { maxLength: 20 }), async (chunks) => {
          const lines: string[] = [];
          let handlers!: TransportHandlers;
          const c = await ConsoleSession.create(
            "fuzz",
            async (h) => {
              handlers = h;
              return { write: async () => {}, close: async () => {} };
            },
            { onLine: (l) => lines.push(l) },
          );
          for (const b of chunks) handlers.onData(b);
          handlers.onData(Buffer.from("\nEND-OF-FUZZ\n"));
          await c.expect([/END-OF-FUZZ/], Date.now() + 5000, new AbortController().signal);
          for (const l of lines) expect(l.length).toBeLessThanOrEqual(MAX_LINE_CHARS + LINE_CUT_MARKER.length);
          expect(lines.at(-1)).toBe("END-OF-FUZZ");
          await c.close();
        }),
        { numRuns: RUNS },
      );
    },
  );

  it(
    "an endless line without a newline keeps the worker's memory bounded (RSS grows far less than the output)",
    { timeout: TIMEOUT_MS },
    async () => {
      let handlers!: TransportHandlers;
      let cut = 0;
      const c = await ConsoleSession.create(
        "rss",
        async (h) => {
          handlers = h;
          return { write: async () => {}, close: async () => {} };
        },
        { onLine: (l) => (cut += l.endsWith(LINE_CUT_MARKER) ? 1 : 0) },
      );
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const feed = async (mb: number) => {
        for (let i = 0; i < mb * 16; i++) {
          handlers.onData(chunk);
          if (i % 64 === 0) await new Promise((r) => setImmediate(r));
        }
      };
      await feed(16); // warm up: buffers and code paths reach their steady size
      const before = process.memoryUsage().rss;
      await feed(256); // 256 MB of one line, no newline
      const grown = process.memoryUsage().rss - before;
      handlers.onData(Buffer.from("\nEND\n"));
      await c.expect([/END/], Date.now() + 5000, new AbortController().signal);
      await c.close();
      // an unbounded buffer would hold all 256 MB (more as UTF-16 strings)
      expect(grown).toBeLessThan(64 * 1024 * 1024);
      expect(cut).toBeGreaterThan(0);
    },
  );
});
