import { Deserializer } from "@foxglove/xmlrpc";
import { describe, expect, it } from "vitest";
import { readMethodResponse } from "./xmlrpc-response.ts";

// What LAVA's xmlrpc.client.dumps writes (and Magma's serializer copies): the bench client's reader
// must give what @foxglove/xmlrpc's Deserializer gives, and leave what it does not handle to it.
const LAVA_LIST =
  "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n" +
  "<value><struct>\n<member>\n<name>id</name>\n<value><int>12</int></value>\n</member>\n" +
  "<member>\n<name>description</name>\n<value><string>a &amp; b &lt;c&gt; &#233;</string></value>\n</member>\n" +
  "<member>\n<name>health_check</name>\n<value><boolean>0</boolean></value>\n</member>\n" +
  "<member>\n<name>actual_device</name>\n<value><nil/></value>\n</member>\n" +
  "<member>\n<name>ratio</name>\n<value><double>1.5</double></value>\n</member>\n" +
  "<member>\n<name>empty</name>\n<value><string></string></value>\n</member>\n" +
  "<member>\n<name>bare</name>\n<value>text</value>\n</member>\n" +
  "<member>\n<name>log</name>\n<value><base64>\naGVsbG8=\n</base64></value>\n</member>\n" +
  "</struct></value>\n<value><i4>-3</i4></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n";

describe("readMethodResponse (the bench client's XML-RPC answer reader)", () => {
  it("reads LAVA's answers as @foxglove/xmlrpc's Deserializer does", async () => {
    const ref = await new Deserializer().deserializeMethodResponse(LAVA_LIST);
    expect(readMethodResponse(LAVA_LIST)).toEqual({ value: ref });
  });

  it("reads faults, and leaves CDATA and unknown types to the Deserializer", () => {
    const fault =
      "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>404</int></value>\n</member>\n" +
      "<member>\n<name>faultString</name>\n<value><string>Job '9' was not found.</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";
    expect(readMethodResponse(fault)).toEqual({ fault: { faultCode: 404, faultString: "Job '9' was not found." } });
    expect(
      readMethodResponse("<methodResponse><params><param><value><string><![CDATA[x]]></string></value></param></params></methodResponse>"),
    ).toBeUndefined();
    expect(
      readMethodResponse("<methodResponse><params><param><value><ex:i1>1</ex:i1></value></param></params></methodResponse>"),
    ).toBeUndefined();
  });
});
