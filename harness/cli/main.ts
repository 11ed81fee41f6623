#!/usr/bin/env node
// The tdpfuzz command line (DESIGN §6, libFuzzer/AFL++ vocabulary where users know it): the entry
// point and the dispatch to the commands of cli/commands.ts (one file each, cmd_<name>.ts; the flag
// layer is cli/flags.ts).
//   tdpfuzz run     a campaign: writes out/report.{md,json,junit.xml}, out/stats.json, crashes/*.json
//   tdpfuzz replay  sequence files, crash files or directories of them (regression mode)
// Exit codes: 0 nothing found, 1 an unexplained finding (run) / a finding reproduced (replay),
// 2 usage or input error (one line, no stack trace; TDPFUZZ_DEBUG=1 shows the stack).
// `tdpfuzz` alone prints the list of commands (what `tdpfuzz --help` prints) on stderr and exits 2:
// a missing command is a usage error (a script that lost its arguments fails), but the answer to it
// is the list, not one line. Every help text fits 80 columns (test/cli_help.test.ts).
import type { RunParams } from '../run/campaign_params';
import { toolVersion } from '../store/fsutil';
import { InputError } from '../seq/sequence';
import { WriteError } from '../store/fsutil';
import { COMMANDS } from './commands';
import { cmdRun, parseRunArgs, RUN_HELP } from './cmd_run';
import { cmdReplay, parseReplayArgs, REPLAY_HELP, type ReplayArgs } from './cmd_replay';
import { processIo, UsageError, type Command, type Io } from './flags';
import { wrap } from '../report/text';

export { UsageError, type Io };

export type ParsedArgs =
  | { command: 'help'; text: string }
  | { command: 'usage'; text: string }
  | { command: 'version' }
  | { command: 'run'; args: RunParams }
  | { command: 'replay'; args: ReplayArgs }
  | { command: 'command'; cmd: Command; argv: readonly string[] };

/** One row per command: its name, then its summary wrapped under itself (80 columns). */
function commandRows(): string {
  const w = Math.max(...[...COMMANDS.keys()].map(n => n.length));
  return [...COMMANDS.values()].map(c => wrap(c.summary, ' '.repeat(w + 4), `  ${c.name.padEnd(w)}  `).join('\n')).join('\n');
}

export const mainHelp = (): string => `${wrap(`tdpfuzz ${toolVersion()}: differential fuzzing of the KVM TDP MMU mirror/S-EPT refactor (before vs after)`).join('\n')}

usage: tdpfuzz <command> [flags]      (tdpfuzz <command> --help: its flags)

commands:
${commandRows()}

exit codes: 0 nothing found, 1 unexplained finding / finding reproduced, 2 usage
or input error. Set TDPFUZZ_DEBUG=1 to see stack traces of internal errors.`;

const commandList = (): string => [...COMMANDS.keys()].join(', ');

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command, ...rest] = argv;
  if (command === undefined) return { command: 'usage', text: mainHelp() };
  if (command === '--help' || command === '-h' || command === 'help') {
    const topic = rest[0];
    const cmd = topic !== undefined ? COMMANDS.get(topic) : undefined;
    if (cmd) return { command: 'help', text: cmd.help };
    if (topic !== undefined) throw new UsageError(`help: unknown command ${JSON.stringify(topic)} (expected ${commandList()})`);
    return { command: 'help', text: mainHelp() };
  }
  if (command === '--version' || command === 'version') return { command: 'version' };
  if (command === 'run') {
    const args = parseRunArgs(rest);
    return args ? { command: 'run', args } : { command: 'help', text: RUN_HELP };
  }
  if (command === 'replay') {
    const args = parseReplayArgs(rest);
    return args ? { command: 'replay', args } : { command: 'help', text: REPLAY_HELP };
  }
  const cmd = COMMANDS.get(command);
  if (cmd) {
    if (rest.includes('--help') || rest.includes('-h')) return { command: 'help', text: cmd.help };
    return { command: 'command', cmd, argv: rest };
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)} (expected ${commandList()}; see tdpfuzz --help)`);
}

/** Run the CLI; returns the exit code (never throws). */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  try {
    const p = parseArgs(argv);
    switch (p.command) {
      case 'help': io.out(`${p.text}\n`); return 0;
      case 'usage': io.err(`${p.text}\n`); return 2;
      case 'version': io.out(`${toolVersion()}\n`); return 0;
      case 'run': return await cmdRun(p.args, io);
      case 'replay': return await cmdReplay(p.args, io);
      case 'command': return await p.cmd.run(p.argv, io);
    }
  } catch (e) {
    if (e instanceof InputError || e instanceof WriteError) {
      io.err(`tdpfuzz: ${e.message}\n`);
    } else {
      const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      io.err(`tdpfuzz: internal error: ${msg}${io.env.TDPFUZZ_DEBUG ? '' : ' (set TDPFUZZ_DEBUG=1 for the stack)'}\n`);
    }
    if (io.env.TDPFUZZ_DEBUG && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    return 2;
  }
}

if (require.main === module) {
  // `tdpfuzz replay --trace ... | head`: a closed pipe is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
  }
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, () => { process.exitCode = 2; });
}
