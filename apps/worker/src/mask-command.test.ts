import { describe, expect, it } from "vitest";
import { maskCommandCredentials } from "./mask-command.ts";

describe("maskCommandCredentials", () => {
  it("masks option values, key=value pairs and URL passwords, and leaves the rest of the command", () => {
    expect(maskCommandCredentials("pduclient --daemon pdu01 --hostname pdu --port 7 --command reboot --password s3cret")).toBe(
      "pduclient --daemon pdu01 --hostname pdu --port 7 --command reboot --password [MASKED]",
    );
    expect(maskCommandCredentials("ipmitool -I lanplus -H bmc -U admin --password='a b' reset")).toBe(
      "ipmitool -I lanplus -H bmc -U admin --password=[MASKED] reset",
    );
    expect(maskCommandCredentials("curl -s 'http://admin:hunter2@pdu.lab/outlet?id=3&token=abc123&state=off'")).toBe(
      "curl -s 'http://admin:[MASKED]@pdu.lab/outlet?id=3&token=[MASKED]&state=off'",
    );
    expect(maskCommandCredentials("snmpset -v2c --community private pdu 1.3.6 i 2")).toBe(
      "snmpset -v2c --community [MASKED] pdu 1.3.6 i 2",
    );
    expect(maskCommandCredentials("telnet 127.0.0.1 7001")).toBe("telnet 127.0.0.1 7001");
    expect(maskCommandCredentials("bash power-controller.sh --dir /tmp/x reset bbb-01")).toBe(
      "bash power-controller.sh --dir /tmp/x reset bbb-01",
    );
  });
});
