import { describe, expect, it } from "vitest";
import { downloadUrlProblem, imageNameProblem, testDefinitionPathProblem } from "./safety.ts";
import { formatDefinitionErrors, parseJobDefinition } from "./parse.ts";
import { demoWith, errorsOf } from "./testing.ts";

describe("names and paths from a job (submission checks)", () => {
  it("refuses an image key that is a traversal, an absolute path or hidden, naming it with its YAML path", () => {
    for (const bad of ["../x", "../../../tmp/x", "/etc/cron.d/x", "a/b", ".hidden", "..", "-kernel", "x".repeat(65)]) {
      const msg = errorsOf(
        demoWith((d) => {
          d.actions[0].deploy.images[bad] = { url: "http://127.0.0.1:4100/vmlinuz" };
        }),
      );
      expect(msg).toContain(`image name '${bad}' is not allowed`);
      expect(msg).toContain(`@ data['actions'][0]['deploy']['images']['${bad}']`);
    }
  });

  it("refuses tftp images whose URL is not http/https, naming the url", () => {
    const tftp = [
      "job_name: bbb",
      "device_type: bbb",
      "visibility: public",
      "timeouts: {job: {minutes: 5}}",
      "actions:",
      "- deploy: {to: tftp, kernel: {url: 'file:///etc/shadow'}}",
      "- boot: {method: u-boot, commands: ramdisk, prompts: ['/ #']}",
    ].join("\n");
    expect(errorsOf(tftp)).toBe(
      "Job invalid: URL scheme 'file' is not supported (supported: http, https) @ data['actions'][0]['deploy']['kernel']['url']",
    );
  });

  it("refuses non-http(s) and malformed download URLs", () => {
    expect(errorsOf(demoWith((d) => (d.actions[0].deploy.images.kernel.url = "file:///etc/passwd")))).toContain(
      "URL scheme 'file' is not supported (supported: http, https) @ data['actions'][0]['deploy']['images']['kernel']['url']",
    );
    expect(errorsOf(demoWith((d) => (d.actions[0].deploy.images.initrd.url = "not a url")))).toContain(
      "'not a url' is not a valid URL @ data['actions'][0]['deploy']['images']['initrd']['url']",
    );
  });

  it("refuses test definition paths with '..', absolute paths and control characters", () => {
    expect(errorsOf(demoWith((d) => (d.actions[2].test.definitions[1].path = "../../etc/passwd")))).toBe(
      "Job invalid: path '../../etc/passwd' must not contain '..' @ data['actions'][2]['test']['definitions'][1]['path']",
    );
    expect(errorsOf(demoWith((d) => (d.actions[2].test.definitions[0].path = "/abs.yaml")))).toContain(
      "must be relative @ data['actions'][2]['test']['definitions'][0]['path']",
    );
    expect(errorsOf(demoWith((d) => (d.actions[2].test.definitions[0].path = "x\nrm -rf /")))).toContain("control characters");
    expect(errorsOf(demoWith((d) => (d.actions[2].test.definitions[0].name = "../x")))).toContain(
      "data['actions'][2]['test']['definitions'][0]['name']",
    );
  });

  it("refuses secrets and test parameter names that are not shell variable names", () => {
    expect(errorsOf(demoWith((d) => (d.secrets = { GOOD: "x", "BAD;rm -rf /": "y" })))).toBe(
      "Job invalid: secret name 'BAD;rm -rf /' must be a shell variable name (letters, digits and '_', not starting with a digit) @ data['secrets']['BAD;rm -rf /']",
    );
    expect(errorsOf(demoWith((d) => (d.actions[2].test.definitions[0].parameters = { "1X": "y" })))).toContain(
      "@ data['actions'][2]['test']['definitions'][0]['parameters']['1X']",
    );
    expect(errorsOf(demoWith((d) => (d.actions[2].test.definitions[0].repository.params = { "A-B": "y" })))).toContain(
      "['repository']['params']['A-B']",
    );
  });

  it("accepts the names real jobs use", () => {
    const r = parseJobDefinition(
      demoWith((d) => {
        d.secrets = { API_TOKEN: "s3cret" };
        d.actions[0].deploy.images["rootfs.ext4_v2"] = { url: "https://example.org/a/b/rootfs.ext4.gz", compression: "gz" };
        d.actions[2].test.definitions[0].path = "automated/linux/smoke/smoke.yaml";
      }),
    );
    expect(r.ok, r.ok ? "" : formatDefinitionErrors(r.errors)).toBe(true);
    expect(imageNameProblem("kernel")).toBeUndefined();
    expect(downloadUrlProblem("http://127.0.0.1:4100/vmlinuz")).toBeUndefined();
    expect(testDefinitionPathProblem("inline/smoke.yaml")).toBeUndefined();
  });
});
