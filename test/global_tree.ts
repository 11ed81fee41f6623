// Vitest globalSetup: transpile harness/ and impls/ once for the whole run (test/build_helper.ts
// buildTree), instead of once per test file that needs real JavaScript — each transpile is ~4 s of
// CPU, and ten files did it. Test files read the tree's path from TDPFUZZ_TEST_TREE (inherited by
// vitest's workers, which start after this runs); none of them writes into it.
import * as fs from 'node:fs';
import { SHARED_TREE_ENV, transpileTree } from './build_helper';

export default function setup(): () => void {
  const tree = transpileTree('shared');
  process.env[SHARED_TREE_ENV] = tree;
  // not removeTree: it leaves the shared tree alone
  return () => fs.rmSync(tree, { recursive: true, force: true });
}
