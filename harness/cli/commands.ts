// Subcommands beyond run and replay register here, each in its own file (cmd_*.ts), so the CLI
// entry point stays small: `tdpfuzz <name> ...` → COMMANDS.get(name).run(argv, io).
import type { Io } from './main';

export interface Command {
  name: string;
  /** one line for `tdpfuzz --help` */
  summary: string;
  /** full `tdpfuzz <name> --help` text */
  help: string;
  /** parse argv (everything after the command name) and run; returns the exit code. Throw InputError on bad input. */
  run(argv: readonly string[], io: Io): Promise<number>;
}

export const COMMANDS = new Map<string, Command>();

export function registerCommand(c: Command): void { COMMANDS.set(c.name, c); }
