import { describe, expect, it } from "vitest";
import { connectDevice } from "./connect-device.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("connectDevice with a connection_command", () => {
  it("closes a console command that ignores SIGTERM (an interactive shell): hang-up, then SIGKILL, as pexpect's close(force)", async () => {
    // ignores HUP and TERM (as an interactive shell ignores TERM) and never reads its stdin, so only
    // SIGKILL ends it; signals ignored before exec stay ignored in sleep
    const session = await connectDevice({
      device_type: "sim",
      hostname: "sim-01",
      connection_command: "trap '' TERM HUP; echo pid=$$; echo 'sim# '; exec sleep 600",
    });
    const m = await session.expect([/pid=(\d+)/], Date.now() + 30_000, new AbortController().signal);
    const pid = Number(m.match[1]);
    expect(pid).toBeGreaterThan(1);
    await session.expect([/sim# /], Date.now() + 30_000, new AbortController().signal);
    expect(alive(pid)).toBe(true);
    await session.close();
    expect(alive(pid)).toBe(false);
  });
});
