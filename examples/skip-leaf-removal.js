// A reviewer's own variant, as a plain CommonJS module: the "after" design with one S-EPT update
// dropped — TDX "removes" a private leaf without issuing BLOCK/TRACK/REMOVE/WBINVD.
//
//   npm run build
//   npx tdpfuzz run --designs before,./examples/skip-leaf-removal.js --runs 2000
//
// A variant is a subclass of a design that overrides one method, named after the kernel function
// it models (see impls/README.md for the map), exported as {name, description, create(config)}.
const { AfterDesign } = require('../dist/impls/after/tdp_mmu');

class SkipLeafRemoval extends AfterDesign {
  /** tdx_sept_remove_leaf_spte(), "optimised" away */
  tdxSeptRemoveLeafSpte(_gfn, _level, _oldSpte) {
    return 0;
  }
}

module.exports = {
  name: 'skip-leaf-removal',
  description: 'after, but tdx_sept_remove_leaf_spte() forgets the SEAMCALLs',
  create: (config) => new SkipLeafRemoval('skip-leaf-removal', config),
};
