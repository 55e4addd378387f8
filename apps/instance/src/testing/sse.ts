import { expect } from "vitest";

/** One SSE event of the events stream: sequence id, topic, LAVA's 5-frame array. */
export type Frame = { id: number; event: string; frames: [string, string, string, string, string] };

/** Reads an SSE response until `enough(frames)` holds, then aborts it. */
export async function readStream(url: string, enough: (f: Frame[]) => boolean, headers: Record<string, string> = {}): Promise<Frame[]> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal, headers });
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const frames: Frame[] = [];
  const deadline = Date.now() + 10_000;
  while (!enough(frames)) {
    if (Date.now() > deadline) throw new Error(`stream never had enough events: ${text}`);
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = text.indexOf("\n\n")) >= 0) {
      const block = text.slice(0, i);
      text = text.slice(i + 2);
      const f = Object.fromEntries(
        block
          .split("\n")
          .filter((l) => !l.startsWith(":"))
          .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]),
      );
      if (f["id"]) frames.push({ id: Number(f["id"]), event: f["event"]!, frames: JSON.parse(f["data"]!) });
    }
  }
  ac.abort();
  return frames;
}
