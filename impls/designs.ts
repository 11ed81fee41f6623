// The built-in designs. A user's own variant is a module exporting a `Design` (see impls/README.md).
import type { Design, DesignInstance, VmConfig } from './api';
import { BeforeDesign } from './before/tdp_mmu';
import { AfterDesign } from './after/tdp_mmu';

export const before: Design = {
  name: 'before',
  description: 'v7.x base: link/set/remove/free external hooks; external page freed in the RCU callback',
  create: (config: VmConfig) => new BeforeDesign('before', config),
};

export const after: Design = {
  name: 'after',
  description: 'TDX MMU refactors v3: central set_external_spte(old,new); TDX frees the external page at once',
  create: (config: VmConfig) => new AfterDesign('after', config),
};

export const BUILTIN_DESIGNS: Record<string, Design> = { before, after };

/** The design an instance derives from: a mutant or a user's variant of after is an after. */
export type DesignBase = 'before' | 'after';
export function designBaseOf(vm: DesignInstance): DesignBase | null {
  if (vm instanceof BeforeDesign) return 'before';
  if (vm instanceof AfterDesign) return 'after';
  return null;
}
