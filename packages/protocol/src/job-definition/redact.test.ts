import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseJobDefinition } from "./parse.ts";
import { MASKED, redactDefinition } from "./redact.ts";

const JOB = `# CI job; the token s3cr3t-tok-42 is rotated weekly
device_type: qemu
job_name: secrets  # keep this comment
visibility: public
timeouts: {job: {minutes: 5}}
secrets:
  API_KEY: &k abcdefgh123
  PIN: "12"
metadata: {copy: *k, embed: "pre-abcdefgh123-post", pin: "12"}
actions:
- deploy:
    to: tmpfs
    images:
      kernel: {url: "http://x/k", headers: {Authorization: "Bearer zzzzzzzz"}}
- boot: {method: qemu, prompts: ['# '], auto_login: {login_prompt: 'login:', username: root, password: hunter2}}
notify:
  criteria: {status: finished}
  callback: {url: "http://cb/legacy", token: legacy-token-1}
`;

const TFTP = `device_type: bbb
job_name: t
visibility: public
timeouts: {job: {minutes: 5}}
actions:
- deploy: {to: tftp, kernel: {url: 'http://x/z', headers: {X-Auth: kernel-header-secret}}, dtb: {url: 'http://x/d', headers: {X-Auth: dtb-header-secret}}}
- boot: {method: u-boot, commands: ramdisk, prompts: ['/ #']}
notify:
  criteria: {status: finished}
  callbacks: [{url: "http://cb/a", token: tok-a-123456}, {url: "http://cb/b"}]
`;

describe("redactDefinition", () => {
  it("masks secrets, image headers, auto_login passwords and notify tokens, keeping keys and comments", () => {
    const out = redactDefinition(JOB);
    for (const secret of ["abcdefgh123", "zzzzzzzz", "hunter2", "legacy-token-1"]) expect(out).not.toContain(secret);
    // text that is no declared secret stays, even in a comment
    expect(out).toContain("s3cr3t-tok-42");
    const doc = parse(out) as any;
    expect(doc.secrets).toEqual({ API_KEY: MASKED, PIN: MASKED });
    // an alias of a secret shows the mask; a long secret copied into another value is masked there too
    expect(doc.metadata).toEqual({ copy: MASKED, embed: `pre-${MASKED}-post`, pin: "12" });
    expect(doc.actions[0].deploy.images.kernel.headers).toEqual({ Authorization: MASKED });
    expect(doc.actions[1].boot.auto_login).toEqual({ login_prompt: "login:", username: "root", password: MASKED });
    expect(doc.notify.callback).toEqual({ url: "http://cb/legacy", token: MASKED });
    expect(out).toContain("# keep this comment");
    expect(out).toContain("# CI job");
    // the redacted definition is still a valid job (lavacli and the frontend parse it)
    expect(parseJobDefinition(out).ok).toBe(true);
  });

  it("masks tftp image headers and every callback token; a definition without secrets is returned unchanged", () => {
    const doc = parse(redactDefinition(TFTP)) as any;
    expect(doc.actions[0].deploy.kernel.headers).toEqual({ "X-Auth": MASKED });
    expect(doc.actions[0].deploy.dtb.headers).toEqual({ "X-Auth": MASKED });
    expect(doc.notify.callbacks).toEqual([{ url: "http://cb/a", token: MASKED }, { url: "http://cb/b" }]);
    const plain = "job_name: x  # c\nactions: []\n";
    expect(redactDefinition(plain)).toBe(plain);
  });

  it("masks in JSON definitions and comments, and never returns text it could not redact", () => {
    expect(parse(redactDefinition('{"job_name":"x","secrets":{"A":"supersecret"}}'))).toEqual({ job_name: "x", secrets: { A: MASKED } });
    expect(redactDefinition("secrets: {A: verysecret1}\n# verysecret1 again\n")).not.toContain("verysecret1");
    // a key that happens to contain a secret's text stays a key
    expect(parse(redactDefinition("secrets: {A: device}\nmetadata: {device_type: device}\n"))).toEqual({
      secrets: { A: MASKED },
      metadata: { device_type: MASKED },
    });
    const broken = "secrets: {A: leaked-if-echoed\n";
    expect(redactDefinition(broken)).not.toContain("leaked-if-echoed");
  });
});
