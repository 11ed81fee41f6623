// Reading the import graph of the sources, for the dependency-rule tests (test/layers.test.ts for
// harness/, test/models/layering.test.ts inside impls/). Imports are read with the TypeScript
// pre-processor, so `import type`, `export … from`, side-effect imports, `require()` and `import()`
// all count, and commented-out imports and strings that look like imports do not.
import * as ts from 'typescript';

/** The module specifiers a source text imports, in order. */
export function importSpecifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map(f => f.fileName);
}
