import { describe, expect, it } from "vitest";
import { compileJobPattern } from "./patterns.ts";
import { formatDefinitionErrors, parseJobDefinition } from "./parse.ts";
import { demoWith, errorsOf } from "./testing.ts";

describe("job patterns run on RE2 (linear time)", () => {
  it("refuses prompts and parse patterns RE2 cannot run, naming the feature and the YAML path", () => {
    expect(errorsOf(demoWith((d) => (d.actions[1].boot.prompts = ["ok", "(\\w+)@\\1:~# "])))).toBe(
      "Job invalid: pattern '(\\w+)@\\1:~# ' uses backreferences (\\1, \\k<name>), which the worker's linear-time regex engine (RE2) does not support @ data['actions'][1]['boot']['prompts'][1]",
    );
    expect(errorsOf(demoWith((d) => (d.actions[1].boot.auto_login = { login_prompt: "login:(?!x)", username: "root" })))).toContain(
      "uses lookaround ((?=, (?!, (?<=, (?<!), which the worker's linear-time regex engine (RE2) does not support @ data['actions'][1]['boot']['auto_login']['login_prompt']",
    );
    expect(errorsOf(demoWith((d) => (d.actions[2].test.definitions[0].repository.parse = { pattern: "(?<=x)pass" })))).toContain(
      "@ data['actions'][2]['test']['definitions'][0]['repository']['parse']['pattern']",
    );
    expect(errorsOf(demoWith((d) => (d.actions[1].boot.prompts = ["x".repeat(1001)])))).toContain("over the limit of 1000");
  });

  it("accepts what LAVA jobs use (Python named groups included); text that is no regex at all is matched literally", () => {
    const r = parseJobDefinition(
      demoWith((d) => {
        d.actions[1].boot.prompts = ["root@(none):~# ", "[#$] ", "/ #", "(?i)login:"];
        d.actions[2].test.definitions[0].repository.parse = { pattern: "^(?P<test_case_id>\\S+):\\s+(?P<result>pass|fail)" };
      }),
    );
    expect(r.ok, r.ok ? "" : formatDefinitionErrors(r.errors)).toBe(true);
    const literal = compileJobPattern("[root@x ~#");
    expect(literal.ok && literal.literal).toBe(true);
    if (literal.ok) expect(literal.re.matcher("... [root@x ~# ").find()).toBe(true);
  });

  it("a catastrophic pattern for a backtracking engine returns promptly on a long line", () => {
    const c = compileJobPattern("(a+)+$");
    if (!c.ok) throw new Error(c.message);
    const line = "a".repeat(64 * 1024) + "b";
    const t0 = performance.now();
    expect(c.re.matcher(line).find()).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
