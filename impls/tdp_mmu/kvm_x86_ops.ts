// The vendor hooks the unchanged MMU and VM code calls, declared on the MMU side as the kernel does
// in struct kvm_x86_ops (arch/x86/include/asm/kvm-x86-ops.h) and calls through kvm_x86_call(...).
// TDX implements them (impls/tdx/tdx_common.ts binds each to its tdx_* function, the way
// vmx/main.c's vt_x86_ops does). The dependency points one way: tdx/ imports tdp_mmu/, never the
// reverse.
//
// The external-SPT hooks (link_external_spt / set_external_spte / remove_external_spte /
// free_external_spt) are not here: the series changes their list and their signatures, and only
// the changed MMU functions call them, so each design's own tdp_mmu.ts calls its TDX side
// (impls/{before,after}/tdx.ts) directly (see impls/README.md).
import { TdpMmuCore } from './core';

export abstract class KvmX86Ops extends TdpMmuCore {
  /**
   * kvm_x86_ops.gmem_max_mapping_level (older kernels: private_max_mapping_level), called by
   * kvm_mmu_hugepage_adjust for a private fault (kernel-model §2.1): the highest level TDX lets a
   * private gfn be mapped at now. TDX: tdx_gmem_max_mapping_level.
   */
  protected abstract gmemMaxMappingLevel(): number;

  /**
   * kvm_x86_ops.vm_pre_destroy, called by kvm_arch_pre_destroy_vm (kernel-model §2.14 step 2);
   * returns how the hkid release went. TDX: vt_vm_pre_destroy → tdx_mmu_release_hkid.
   */
  protected abstract vmPreDestroy(): string;

  /**
   * kvm_x86_ops.vm_destroy, called by kvm_arch_destroy_vm before kvm_mmu_uninit_vm (kernel-model
   * §2.14 step 3). TDX: vt_vm_destroy → tdx_vm_destroy.
   */
  protected abstract vmDestroy(): void;
}
