import { Deserializer, serializeMethodCall } from "@foxglove/xmlrpc";
import { describe, expect, it } from "vitest";
import { readPlainMethodCall } from "./read-call.ts";

const deserialize = async (xml: string) => (await new Deserializer().deserializeMethodCall(xml)) as [string, unknown[]];

/** What Python's xmlrpc.client.dumps writes (lavacli), one value per param. */
const pythonCall = (method: string, ...values: string[]) =>
  `<?xml version='1.0'?>\n<methodCall>\n<methodName>${method}</methodName>\n<params>\n${values.map((v) => `<param>\n<value>${v}</value>\n</param>\n`).join("")}</params>\n</methodCall>\n`;

describe("readPlainMethodCall", () => {
  const plain: Record<string, string> = {
    "lavacli jobs list": pythonCall(
      "scheduler.jobs.list",
      "<nil/>",
      "<nil/>",
      "<int>0</int>",
      "<int>100</int>",
      "<int>0</int>",
      "<boolean>1</boolean>",
    ),
    "a submission with every entity": pythonCall(
      "scheduler.jobs.submit",
      "<string>job_name: a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233; &#x1F600; &#10;\n  - x: &gt;-\n</string>",
    ),
    "bare text, empty and whitespace values": pythonCall("system.echo", "plain text", "", "  ", "<string/>", "<string></string>"),
    numbers: pythonCall(
      "x.y",
      "<i4>-12</i4>",
      "<int> +7 </int>",
      "<double>1.5</double>",
      "<double>-2e3</double>",
      "<double>.25</double>",
      "<boolean>0</boolean>",
    ),
    "arrays and structs": pythonCall(
      "system.multicall",
      "<array><data>\n<value><struct>\n<member>\n<name>methodName</name>\n<value><string>scheduler.jobs.show</string></value>\n</member>\n<member>\n<name>params</name>\n<value><array><data>\n<value><int>3</int></value>\n</data></array></value>\n</member>\n</struct></value>\n<value><struct></struct></value>\n<value><array><data></data></array></value>\n</data></array>",
      "<struct><member><name>a</name><value><nil/></value></member><member><name>a</name><value>2</value></member><member><name>b &amp; c</name><value><int>1</int></value></member></struct>",
    ),
    "no params": `<?xml version="1.0"?><methodCall><methodName>system.listMethods</methodName></methodCall>`,
    "empty params": `<?xml version="1.0" encoding="utf-8"?><methodCall><methodName>system.version</methodName><params/></methodCall>`,
    "no declaration": `<methodCall><methodName>system.version</methodName><params></params></methodCall>`,
    "@foxglove/xmlrpc's own serializer": serializeMethodCall("scheduler.jobs.submit", ["a b c", 3, true, [1, "x"], { k: "v" }]),
  };
  for (const [what, xml] of Object.entries(plain))
    it(`reads ${what} as the Deserializer does`, async () => {
      const fast = readPlainMethodCall(xml);
      expect(fast).toBeDefined();
      expect(fast).toEqual(await deserialize(xml));
    });

  it("gives the job definition text exactly", () => {
    const yaml = "job_name: x\nactions:\n- boot: {prompts: ['/ #', \"a > b\"]}\n# ü & <done>\n";
    const xml = pythonCall(
      "scheduler.jobs.submit",
      `<string>${yaml.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")}</string>`,
    );
    expect(readPlainMethodCall(xml)).toEqual(["scheduler.jobs.submit", [yaml]]);
  });

  const notPlain: Record<string, string> = {
    "a comment": pythonCall("a.b", "<!-- c --><int>1</int>"),
    CDATA: pythonCall("a.b", "<string><![CDATA[<x>]]></string>"),
    "a DOCTYPE with entities": `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "y">]><methodCall><methodName>a.b</methodName></methodCall>`,
    "an unknown entity": pythonCall("a.b", "<string>&e;</string>"),
    "a stray ampersand": pythonCall("a.b", "<string>a & b</string>"),
    "a reference to NUL": pythonCall("a.b", "<string>&#0;</string>"),
    attributes: pythonCall("a.b", '<string lang="x">y</string>'),
    "upper-case tags": pythonCall("a.b", "<STRING>y</STRING>"),
    i8: pythonCall("a.b", "<i8>12</i8>"),
    dateTime: pythonCall("a.b", "<dateTime.iso8601>20261123T07:06:34</dateTime.iso8601>"),
    base64: pythonCall("a.b", "<base64>eA==</base64>"),
    "a malformed int": pythonCall("a.b", "<int>12x</int>"),
    "a malformed boolean": pythonCall("a.b", "<boolean>true</boolean>"),
    "text beside a typed value": pythonCall("a.b", "x<int>1</int>"),
    "carriage returns": pythonCall("a.b", "<string>a\r\nb</string>"),
    "trailing content": `${pythonCall("a.b")}<x/>`,
    "an unclosed value": `<methodCall><methodName>a.b</methodName><params><param><value><string>x</string></param></params></methodCall>`,
    "a methodResponse": `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>1</int></value>\n</param>\n</params>\n</methodResponse>\n`,
    "not XML": "hello",
    empty: "",
  };
  for (const [what, xml] of Object.entries(notPlain))
    it(`leaves ${what} to the Deserializer`, () => {
      expect(readPlainMethodCall(xml)).toBeUndefined();
    });
});
