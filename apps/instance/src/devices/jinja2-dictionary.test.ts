import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkTemplateSafety, isJinja2, renderJinja2Dictionary } from "./jinja2-dictionary.ts";

const render = (source: string, stored: Record<string, string> = {}, deviceType = "qemu") =>
  parse(renderJinja2Dictionary({ source, hostname: "dut-01", deviceType, storedTemplates: new Map(Object.entries(stored)) })) as Record<
    string,
    unknown
  >;
const refusal = (source: string, stored: Record<string, string> = {}) => {
  try {
    render(source, stored);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`not refused: ${source}`);
};

describe("LAVA jinja2 device dictionaries on the shipped templates", () => {
  it("qemu.jinja2: defaults, LAVA's variable names, arch picks the emulator", () => {
    expect(render("{% extends 'qemu.jinja2' %}")).toEqual({
      qemu: { binary: "qemu-system-x86_64", machine: "pc,accel=tcg", memory_mb: 256, smp: 1, extra_options: [] },
      hostname: "dut-01",
      device_type: "qemu",
    });
    const d = render(
      "{% extends 'qemu.jinja2' %}\n{% set arch = 'arm64' %}\n{% set machine = 'virt' %}\n{% set cpu = 'cortex-a57' %}\n{% set memory = '1024' %}\n{% set cpus = 4 %}\n{% set extra_options = ['-no-reboot'] %}\n",
    );
    expect(d["qemu"]).toEqual({
      binary: "qemu-system-aarch64",
      machine: "virt",
      cpu: "cortex-a57",
      memory_mb: 1024,
      smp: 4,
      extra_options: ["-no-reboot"],
    });
    // an arch without an emulator never becomes a free binary path
    expect(render("{% extends 'qemu.jinja2' %}{% set arch = '../../bin/sh' %}")["qemu"]).toMatchObject({
      binary: "unsupported-arch-../../bin/sh",
    });
  });

  it("base.jinja2 keys: console and power commands, values quoted so they cannot add YAML keys", () => {
    const d = render(
      "{% extends 'uboot.jinja2' %}\n{% set connection_command = 'telnet localhost 7001' %}\n{% set power_on_command = 'pdu on 3' %}\n{% set power_off_command = 'pdu off 3\\nhostname: evil' %}\n{% set bootm_kernel_addr = '0x82000000' %}\n{% set boot_commands = ['bootz'] %}\n",
      {},
      "bbb",
    );
    expect(d).toEqual({
      bootloader_prompt: "=> ",
      interrupt_prompt: "Hit any key to stop autoboot",
      interrupt_char: "",
      kernel_addr: "0x82000000",
      boot_commands: ["bootz"],
      connection_command: "telnet localhost 7001",
      power_on_command: "pdu on 3",
      power_off_command: "pdu off 3\nhostname: evil",
      hostname: "dut-01",
      device_type: "bbb",
    });
  });

  it("a stored device-type template shadows the shipped one and may extend it; blocks and super() work", () => {
    const stored = {
      "qemu.jinja2": "{% extends 'base.jinja2' %}{% block body %}qemu: {memory_mb: {{ memory | default(64) }}}\n{% endblock %}",
      "big-qemu.jinja2":
        "{% extends 'base.jinja2' %}{% block body %}qemu: {memory_mb: 4096}\n{% endblock %}{% block extra %}{{ super() }}kernel_start_message: 'Linux'\n{% endblock %}",
    };
    expect(render("{% extends 'qemu.jinja2' %}", stored)["qemu"]).toEqual({ memory_mb: 64 });
    expect(render("{% extends 'big-qemu.jinja2' %}", stored)).toMatchObject({ qemu: { memory_mb: 4096 }, kernel_start_message: "Linux" });
  });

  it("isJinja2 tells a template from a YAML mapping", () => {
    expect(isJinja2("{% extends 'qemu.jinja2' %}")).toBe(true);
    expect(isJinja2("{# comment #}\nqemu: {memory_mb: 1}")).toBe(true);
    expect(isJinja2("qemu: {memory_mb: 512}")).toBe(false);
  });
});

describe("the template sandbox", () => {
  it.each([
    ["{{ range.constructor('return process')() }}", "calling a method (x.f())"],
    ["{% set f = range.constructor %}", "the attribute 'constructor'"],
    ["{{ cycler.__proto__ }}", "the attribute '__proto__'"],
    ["{{ constructor }}", "the name 'constructor'"],
    ["{% set k = 'constr' ~ 'uctor' %}{{ range[k] }}", "a computed lookup (a[b])"],
    ["{{ [1]|sort(false, true, 'constructor') }}", "the string 'constructor'"],
    ["{% for k, v in d.items() %}{% endfor %}", "calling a method (x.f())"],
    ["{% set f = joiner.bind %}", "the attribute 'bind'"],
  ])("refuses %s", (source, why) => {
    expect(() => checkTemplateSafety(source, "t")).toThrow(why);
  });

  it("refuses names outside the templates, missing templates, unsafe stored templates, and runaway loops", () => {
    expect(refusal("{% extends '../../../etc/passwd' %}")).toContain("is not a device-type template name");
    expect(refusal("{% include '/etc/hostname.jinja2' %}")).toContain("is not a device-type template name");
    expect(refusal("{% extends 'nope.jinja2' %}")).toContain("Device-type template 'nope.jinja2' was not found");
    expect(refusal("{% extends 'evil.jinja2' %}", { "evil.jinja2": "{{ range.constructor('return 1')() }}" })).toContain(
      "Device-type template 'evil.jinja2': calling a method",
    );
    expect(refusal("{% for i in range(100000000) %}{% endfor %}")).toContain("range() larger than 10000 items");
  });

  it("the rendered dictionary is validated as any dictionary, naming the key", () => {
    expect(refusal("{% extends 'qemu.jinja2' %}{% set power_on_command = 7 %}")).toContain("dictionary.power_on_command");
    expect(refusal("{% extends 'qemu.jinja2' %}{% set memory = 'lots' %}")).toContain("dictionary.qemu.memory_mb");
    expect(refusal("- a\n- {{ 'list' }}\n")).toContain("not a YAML mapping");
    expect(refusal("{% extends 'qemu.jinja2' %")).toContain("invalid jinja2 template");
  });
});
