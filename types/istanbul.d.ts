// Hand-written declarations for the two istanbul modules the harness uses directly, at the versions
// jsfuzz 1.0.15 was built for (istanbul-lib-instrument 3.3.0, istanbul-lib-hook 2.0.7; see
// reference/tooling.md §8.3 on why they are pinned). Only what harness/engines/istanbul.ts calls.

declare module 'istanbul-lib-instrument' {
  export interface InstrumenterOptions {
    coverageVariable?: string;
    preserveComments?: boolean;
    compact?: boolean;
    esModules?: boolean;
    autoWrap?: boolean;
    produceSourceMap?: boolean;
  }
  export interface Instrumenter {
    instrumentSync(code: string, filename: string): string;
  }
  export function createInstrumenter(opts?: InstrumenterOptions): Instrumenter;
}

declare module 'istanbul-lib-hook' {
  export interface HookOptions {
    verbose?: boolean;
    /** default ['.js'] */
    extensions?: string[];
    postLoadHook?: (file: string) => void;
  }
  /** Instrument every module whose file name `matcher` accepts; returns an unhook function. */
  export function hookRequire(
    matcher: (filename: string) => boolean,
    transformer: (code: string, options: { filename: string }) => string,
    options?: HookOptions,
  ): () => void;
}
