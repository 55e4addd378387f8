/** Entry of `npm run users` (see users-cli.ts for the commands). */
import { AppError } from "../server/app-error.ts";
import { closeDb } from "../server/db.ts";
import { runUsersCli, USAGE, UsageError } from "./users-cli.ts";

try {
  await runUsersCli(process.argv.slice(2), (l) => console.log(l));
  await closeDb();
} catch (e) {
  await closeDb();
  if (e instanceof UsageError) console.error(`users: ${e.message}\n${USAGE}`);
  else if (e instanceof AppError) console.error(`users: ${e.userMessage}`);
  else console.error(`users: ${(e as Error).message}`);
  process.exit(1);
}
