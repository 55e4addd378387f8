import { describe, expect, it } from "vitest";
import { parseJobDefinition } from "@magma/protocol";
import { exampleDefinition } from "../src/components/submit/example-definition.ts";

describe("the submit page's example job", () => {
  it("is a valid LAVA job definition that downloads from the given image server and waits for the demo DUT's prompt", () => {
    const text = exampleDefinition("http://127.0.0.1:4555/");
    const r = parseJobDefinition(text);
    expect(r.ok).toBe(true);
    expect(text).toContain("url: http://127.0.0.1:4555/vmlinuz");
    expect(text).toContain("url: http://127.0.0.1:4555/initramfs.cpio.gz");
    expect(text).toContain("'magma-dut:/# '");
  });
});
