import { describe, expect, it } from "vitest";
import { Action, type Connection } from "./action.ts";
import type { JobContext } from "./job.ts";
import { Pipeline } from "./pipeline.ts";

const timeouts = { job: { minutes: 1 } } as const;
const ctx = {} as JobContext;

/** Validates by awaiting `gate` (a URL check waiting for its server), then reports `problems`. */
class Check extends Action {
  static readonly name = "check";
  static readonly description = "test check";
  static readonly summary = "test check";
  constructor(
    private readonly gate: Promise<void>,
    private readonly onStart: () => void,
    private readonly problems: string[],
  ) {
    super();
  }
  override async validate(): Promise<string[]> {
    this.onStart();
    await this.gate;
    return this.problems;
  }
  async run(): Promise<Connection> {
    return undefined;
  }
}

describe("Pipeline.validate", () => {
  it("validates the actions concurrently and keeps their problems in pipeline order", async () => {
    let secondStarted!: () => void;
    const second = new Promise<void>((r) => (secondStarted = r));
    const pipeline = new Pipeline()
      // the first check can only finish once the second has started: sequential validation would never end
      .add(new Check(second, () => {}, ["first: Resource unavailable"]), timeouts)
      .add(new Check(Promise.resolve(), secondStarted, ["second: Resource unavailable"]), timeouts)
      .add(new Check(Promise.resolve(), () => {}, []), timeouts);
    expect(await pipeline.validate(ctx)).toEqual(["first: Resource unavailable", "second: Resource unavailable"]);
  });
});
