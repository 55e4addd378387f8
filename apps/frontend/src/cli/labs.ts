/** Entry of `npm run labs` (see labs-cli.ts for the commands). */
import { AppError } from "../server/app-error.ts";
import { closeDb } from "../server/db.ts";
import { runLabsCli, USAGE, UsageError } from "./labs-cli.ts";

try {
  await runLabsCli(process.argv.slice(2), (l) => console.log(l));
  await closeDb();
} catch (e) {
  await closeDb();
  if (e instanceof UsageError) console.error(`labs: ${e.message}\n${USAGE}`);
  else if (e instanceof AppError) console.error(`labs: ${e.userMessage}`);
  else console.error(`labs: ${(e as Error).message}`);
  process.exit(1);
}
