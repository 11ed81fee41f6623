// One patch of the series as the model applies it: the header facts of impls/series/patches/*.ts.
// A patch's code is not here: it is the `this.at.*` switch it turns on (impls/series/switches.ts),
// read by impls/series/series_{tdx,tdp_mmu}.ts.

/**
 * What a step changes that the tool can observe:
 *  - refactor: nothing (differences []); the step observes identically to its predecessor under strict
 *  - rename: a function renamed or folded: only the diagnostic sites of its checks change (D16, strict only)
 *  - unreachable: a behaviour change no op of the model reaches (a check only corruption or a
 *    never-made call triggers); observes identically over generated sequences
 *  - behaviour: observable differences, walked by a flow test
 */
export type PatchKind = 'refactor' | 'rename' | 'unreachable' | 'behaviour';

export interface PatchInfo {
  /** 'P1'..'P15' (v2/v3 numbering), 'v1-P7' (v1 07/17), 'v2-P9' (v2's patch 9) */
  id: string;
  title: string;
  author: string;
  /** mainline commit (series.md §1, push notice S1), or '' when the posting was not merged */
  commit: string;
  /** where its content comes from (series.md source keys) */
  source: string;
  /** 'patch': read from patch/diff text; 'reconstructed': from cover letters and review mails */
  provenance: 'patch' | 'reconstructed';
  /** series.md's tag: [patch], [patch partial], [cover], [inferred] */
  confidence: string;
  kind: PatchKind;
  /** D-ids (kernel-model §3.1, harness/run/explained.ts) this patch introduces; [] = claimed pure refactor */
  differences: string[];
  /** what the model changes, by kernel function name */
  model: string;
}
