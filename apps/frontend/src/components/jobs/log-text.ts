/* eslint-disable no-control-regex */
const OSC = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
const CSI = /\x1b\[[0-?]*[ -/]*[@-~]/g;
const ESC = /\x1b[@-_]/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * DUT output as plain text: ANSI/VT escape sequences (colours, cursor moves, OSC titles) and
 * other control characters removed, tabs kept. The result is rendered as a React text node,
 * never as HTML, so `<script>` from a device stays text.
 */
export function logText(msg: unknown): string {
  const s = typeof msg === "string" ? msg : JSON.stringify(msg);
  return s.replace(OSC, "").replace(CSI, "").replace(ESC, "").replace(/\r\n?/g, "\n").replace(CONTROL, "");
}
