import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

/** One job this worker started: its token (to report it later) and which process started it. */
export interface JournalEntry {
  token: string;
  pid: number;
  startedAt: string;
}

/**
 * A small local record of the jobs this worker started and has not yet reported FINISHED (LAVA's
 * worker db.sqlite3 `jobs` table), in `<worker dir>/journal.json`, written atomically
 * (write + rename). After a restart it tells a job "started by me, session lost" from one never seen.
 */
export class Journal {
  private entries = new Map<number, JournalEntry>();
  private writing: Promise<void> = Promise.resolve();
  readonly file: string;

  constructor(dir: string) {
    this.file = path.join(dir, "journal.json");
  }

  /** Loads the file (a missing or unreadable file is an empty journal). */
  async load(): Promise<void> {
    try {
      const raw = JSON.parse(await readFile(this.file, "utf8")) as { jobs?: Record<string, JournalEntry> };
      this.entries = new Map(Object.entries(raw.jobs ?? {}).map(([k, v]) => [Number(k), v]));
    } catch {
      this.entries = new Map();
    }
  }

  get(jobId: number): JournalEntry | undefined {
    return this.entries.get(jobId);
  }

  /** Jobs started by an earlier worker process (not this one). */
  inherited(): [number, JournalEntry][] {
    return [...this.entries].filter(([, e]) => e.pid !== process.pid);
  }

  async add(jobId: number, token: string): Promise<void> {
    this.entries.set(jobId, { token, pid: process.pid, startedAt: new Date().toISOString() });
    await this.save();
  }

  async remove(jobId: number): Promise<void> {
    if (this.entries.delete(jobId)) await this.save();
  }

  private save(): Promise<void> {
    const snapshot = JSON.stringify({ jobs: Object.fromEntries(this.entries) }, null, 2);
    // serialise writes so an older snapshot never lands after a newer one
    this.writing = this.writing.then(async () => {
      const tmp = `${this.file}.${process.pid}.tmp`;
      try {
        await writeFile(tmp, snapshot);
      } catch (e) {
        // the worker directory is created at start; made again if it disappeared since
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        await mkdir(path.dirname(this.file), { recursive: true });
        await writeFile(tmp, snapshot);
      }
      await rename(tmp, this.file);
    });
    return this.writing;
  }
}
