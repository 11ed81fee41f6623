// The command registry: `tdpfuzz <name> ...` → COMMANDS.get(name).run(argv, io). One file per
// command (cmd_<name>.ts); adding a command = that file + one line here. The order is the order of
// `tdpfuzz --help`.
import type { Command } from './flags';
import { runCommand } from './cmd_run';
import { replayCommand } from './cmd_replay';
import { mutantsCommand } from './cmd_mutants';
import { minimizeCommand } from './cmd_minimize';
import { explainCommand } from './cmd_explain';
import { importCommand } from './cmd_import';
import { mergeCommand } from './cmd_merge';
import { bisectCommand } from './cmd_bisect';
import { promoteCommand } from './cmd_promote';
import { cminCommand } from './cmd_cmin';
import { statusCommand } from './cmd_status';

export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [runCommand, replayCommand, mutantsCommand, minimizeCommand, explainCommand, importCommand, mergeCommand, bisectCommand, promoteCommand, cminCommand, statusCommand].map(c => [c.name, c]),
);
