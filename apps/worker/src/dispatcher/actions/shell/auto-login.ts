import type { TAutoLogin } from "@magma/protocol";
import { promptRegExp } from "../../../connections/console-session.ts";
import { Action, type ActionRunOptions, type Connection } from "../../action.ts";
import { ShellSession } from "./session.ts";

/** What auto-login reads from a boot action (`boot: auto_login:` and `prompts`), whatever its method. */
export interface AutoLoginParams {
  auto_login?: TAutoLogin | undefined;
  prompts: string[];
}

/**
 * `auto_login` of any boot method, LAVA's `auto-login-action`: waits for `login_prompt`, types the
 * username; with `password_prompt` and a password, waits for it and types the password (logged as
 * `********`); then types each of `login_commands` at one of the boot's `prompts`. Without a
 * console or an `auto_login` block it does nothing.
 * @throws ActionTimeoutError when a prompt does not come before the action's deadline
 */
export class AutoLoginAction extends Action {
  static readonly name = "auto-login-action";
  static readonly description = "automatically login after boot using job parameters and checking for messages.";
  static readonly summary = "Auto-login after boot with support for kernel messages.";

  constructor(private readonly params: AutoLoginParams) {
    super();
  }

  async run(options: ActionRunOptions): Promise<Connection> {
    const { ctx, connection } = options;
    const login = this.params.auto_login;
    if (!connection || !login) return connection;
    const shell = ShellSession.forAction(this, options, { noConsole: `${this.name} has no console` });
    ctx.log.debug(`${this.name}: Wait for prompt ['${login.login_prompt}']`);
    await shell.expect([promptRegExp(login.login_prompt)]);
    await shell.type(login.username);
    if (login.password_prompt && login.password !== undefined) {
      await shell.expect([promptRegExp(login.password_prompt)]);
      await shell.type(login.password, "********");
    }
    for (const cmd of login.login_commands ?? []) {
      await shell.expect(this.params.prompts.map(promptRegExp));
      await shell.type(cmd);
    }
    return connection;
  }
}
