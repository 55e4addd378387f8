/**
 * `npm run labs -- <command>`: manage the labs this frontend federates (the /admin page does the
 * same in a browser). Uses the frontend's database (MAGMA_FRONTEND_DATABASE_URL); a running frontend
 * picks changes up without a restart (it reads the labs from the database on each use).
 *
 *   add NAME --kind magma|lava --url URL --token TOKEN [--callback-token T] [--callback-secret S] [--frontend-url U]
 *        a lab the frontend reaches at URL; prints what the lab's admin must configure
 *   enroll NAME [--frontend-url U]   an outbound-only Magma lab: prints a one-time enrollment token
 *   list                             one line per lab: name, kind, mode, status, URL, last contact
 *   remove NAME                      delete a lab and the jobs stored here for it
 *
 * Exit status 0 on success; 1 with a message naming the problem (`Lab "x" does not exist`).
 */
import { parseArgs } from "node:util";
import { db } from "../server/db.ts";
import { addLab, enrollLab, listLabs, removeLab } from "../server/services/labs.ts";

/** The CLI's usage text. */
export const USAGE = `usage: npm run labs -- <command>
  add NAME --kind magma|lava --url URL --token TOKEN [--callback-token T] [--callback-secret S] [--frontend-url U]
  enroll NAME [--frontend-url U]
  list
  remove NAME`;

/** Wrong command-line usage (the CLI prints the usage with it). */
export class UsageError extends Error {}

function need(args: string[], n: number, what: string): string[] {
  if (args.length < n) throw new UsageError(`missing ${what}`);
  return args;
}

/** Runs one CLI command; output lines go to `out`. @throws UsageError, AppError */
export async function runLabsCli(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kind: { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
      "callback-token": { type: "string" },
      "callback-secret": { type: "string" },
      "frontend-url": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [cmd, ...rest] = positionals;
  if (values.help || !cmd) return out(USAGE);
  const frontend = (values["frontend-url"] ?? "<frontend URL>").replace(/\/+$/, "");
  const d = db();
  switch (cmd) {
    case "add": {
      const [name] = need(rest, 1, "NAME");
      if (!values.kind) throw new UsageError("--kind magma|lava is required");
      if (!values.url) throw new UsageError("--url URL is required");
      if (!values.token) throw new UsageError("--token TOKEN is required (the lab's API token the frontend submits with)");
      const r = await addLab(d, {
        name: name!,
        kind: values.kind,
        url: values.url,
        token: values.token,
        callbackToken: values["callback-token"] ?? null,
        callbackSecret: values["callback-secret"] ?? null,
      });
      out(`lab ${name} added (${r.lab.kind}, ${r.lab.url})`);
      if (r.lab.kind === "magma") {
        out("configure the lab's instance with:");
        out(`  MAGMA_FEDERATION_CALLBACK_URL=${frontend}/api/callbacks/${name}`);
        out(`  MAGMA_FEDERATION_TOKEN=${r.callbackToken}`);
        if (r.callbackSecret) out(`  MAGMA_FEDERATION_SIGNING_SECRET=${r.callbackSecret}`);
        out("and give the token passed as --token the federation capability (lab seed file: `federation: true`)");
      } else {
        out("add this notify callback to the lab's job definitions (the frontend adds it to those it submits):");
        out(`  url: ${frontend}/api/callbacks/${name}`);
        out(`  token: ${r.callbackToken}   (sent by LAVA as the Authorization header)`);
      }
      return;
    }
    case "enroll": {
      const [name] = need(rest, 1, "NAME");
      const r = await enrollLab(d, name!);
      out(`enrollment token for outbound lab ${name} (shown once; valid until used or replaced):`);
      out(r.token);
      out("start the lab's instance with:");
      out(`  MAGMA_INSTANCE_NAME=${name}`);
      out(`  MAGMA_FEDERATION_URL=${frontend}`);
      out(`  MAGMA_ENROLLMENT_TOKEN=${r.token}`);
      return;
    }
    case "list": {
      const labs = await listLabs(d);
      if (!labs.length) return out("no labs");
      for (const l of labs)
        out(
          `${l.name}  ${l.kind}  ${l.mode}  ${l.status}  ${l.url ?? "-"}  last contact: ${l.lastContactAt ?? "never"}${l.signedCallbacks || l.mode === "outbound" ? "" : "  (unsigned callbacks)"}`,
        );
      return;
    }
    case "remove": {
      const [name] = need(rest, 1, "NAME");
      await removeLab(d, name!);
      return out(`lab ${name} removed`);
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}
