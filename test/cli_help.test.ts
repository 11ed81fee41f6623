// `tdpfuzz` alone and every help text (issue 12 item 12): no arguments prints the list of every
// command with its one-line summary (on stderr, exit 2: a missing command is a usage error), and
// `tdpfuzz --help`, `tdpfuzz help <cmd>` and every `tdpfuzz <cmd> --help` fit 80 columns.
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../harness/cli/commands';
import { main } from '../harness/cli/main';

const WIDTH = 80;

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: t => { out += t; }, err: t => { err += t; }, cwd: process.cwd(), isTTY: false, env: {} });
  return { code, out, err };
}

/** The lines wider than 80 columns (code points, so "×" and "§" count once). */
const tooWide = (text: string): string[] => text.split('\n').filter(l => [...l].length > WIDTH);

describe('tdpfuzz with no arguments', () => {
  it('lists every command with its summary on stderr and exits 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    for (const c of COMMANDS.values()) {
      // the row: the name, then the start of its summary on the same line
      expect(r.err).toMatch(new RegExp(`^  ${c.name} +${c.summary.split(' ')[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    }
    expect(tooWide(r.err)).toEqual([]);
  });

  it('prints what tdpfuzz --help prints (which exits 0, on stdout)', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect((await cli([])).err).toBe(help.out);
    expect((await cli(['help'])).out).toBe(help.out);
  });
});

describe('help texts fit 80 columns', () => {
  const names = [...COMMANDS.keys()];
  it('the registry has the eleven commands', () => {
    expect(names).toEqual(['run', 'replay', 'mutants', 'minimize', 'explain', 'import', 'merge', 'bisect', 'promote', 'cmin', 'status']);
  });
  it.each(names)('tdpfuzz %s --help', async (name) => {
    const r = await cli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^usage: tdpfuzz ${name}`));
    expect(tooWide(r.out)).toEqual([]);
    // the other ways to ask give the same text
    expect((await cli(['help', name])).out).toBe(r.out);
    expect((await cli([name, '-h'])).out).toBe(r.out);
  });
});
