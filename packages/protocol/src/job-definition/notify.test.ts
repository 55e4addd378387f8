import { describe, expect, it } from "vitest";
import { callbackHostAllowed, callbackUrlHost } from "./notify.ts";

describe("callback host allow-list (LAVA's CALLBACK_ALLOWED_HOSTS, fnmatch)", () => {
  it("allows every host with no patterns, and matches *, ? and [seq] as fnmatch does", () => {
    expect(callbackHostAllowed("squad.example.org", [])).toBe(true);
    expect(callbackHostAllowed("squad.example.org", ["*.example.org"])).toBe(true);
    expect(callbackHostAllowed("example.org", ["*.example.org"])).toBe(false);
    expect(callbackHostAllowed("evil.org", ["*.example.org", "127.0.0.1"])).toBe(false);
    expect(callbackHostAllowed("127.0.0.1", ["*.example.org", "127.0.0.1"])).toBe(true);
    expect(callbackHostAllowed("127.0.0.12", ["127.0.0.1"])).toBe(false);
    expect(callbackHostAllowed("ci2.lab", ["ci?.lab"])).toBe(true);
    expect(callbackHostAllowed("ci3.lab", ["ci[12].lab"])).toBe(false);
    expect(callbackHostAllowed("ci3.lab", ["ci[!12].lab"])).toBe(true);
    expect(callbackHostAllowed("SQUAD.Example.ORG", ["squad.example.org"])).toBe(true);
    expect(callbackHostAllowed("squadxexample.org", ["squad.example.org"])).toBe(false);
  });

  it("takes the host of http(s) callback URLs, placeholders in the path allowed", () => {
    expect(callbackUrlHost("https://squad.example.org/api/{ID}/{STATUS}")).toBe("squad.example.org");
    expect(callbackUrlHost("http://[::1]:8080/cb")).toBe("::1");
    expect(callbackUrlHost("ftp://x/y")).toBeUndefined();
    expect(callbackUrlHost("not a url")).toBeUndefined();
  });
});
