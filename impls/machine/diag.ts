// Diagnostics (DESIGN §2): WARN / WARN_ON_ONCE / KVM_BUG_ON / TDX_BUG_ON / BUG / lockdep, each with a
// stable site id and a design-independent category, recorded as events of the current op.
import type { Diagnostic, DiagKind } from '../api';
import { HostBugError } from './errors';

export class Diagnostics {
  /** KVM_BUG_ON marks the VM bugged; later KVM_BUG_ON/TDX_BUG_ON no longer print (F14). */
  bugged = false;
  private onceFired = new Set<string>();
  events: Diagnostic[] = [];

  private record(kind: DiagKind, site: string, category: string, printed: boolean, detail?: string): void {
    this.events.push(detail === undefined ? { kind, site, category, printed } : { kind, site, category, printed, detail });
  }

  /** WARN_ON(cond): always printed. Returns cond, like the kernel macro. */
  warn(cond: boolean, site: string, category: string, detail?: string): boolean {
    if (cond) this.record('WARN', site, category, true, detail);
    return cond;
  }

  /** WARN_ON_ONCE(cond): printed the first time at this site. */
  warnOnce(cond: boolean, site: string, category: string, detail?: string): boolean {
    if (cond) {
      const first = !this.onceFired.has(site);
      this.onceFired.add(site);
      this.record('WARN_ON_ONCE', site, category, first, detail);
    }
    return cond;
  }

  /** KVM_BUG_ON(cond, kvm): WARN_ON_ONCE unless already bugged, then mark the VM bugged. */
  kvmBugOn(cond: boolean, site: string, category: string, detail?: string): boolean {
    if (cond) {
      this.record('KVM_BUG_ON', site, category, !this.bugged, detail);
      this.bugged = true;
    }
    return cond;
  }

  /** TDX_BUG_ON*(err, fn, kvm): with kvm = NULL (reclaim) it WARNs but bugs nothing. */
  tdxBugOn(failed: boolean, site: string, category: string, bugVm: boolean, detail?: string): boolean {
    if (failed) {
      const first = !this.onceFired.has(site);
      this.onceFired.add(site);
      this.record('TDX_BUG_ON', site, category, first && !this.bugged, detail);
      if (bugVm) this.bugged = true;
    }
    return failed;
  }

  /** lockdep_assert_held*(): a lockdep splat when the assertion fails. */
  lockdep(ok: boolean, site: string, category: string, detail?: string): void {
    if (!ok) this.record('lockdep', site, category, true, detail);
  }

  /** BUG(): the host crashes; the op ends here. */
  hostBug(site: string, category: string, detail: string): never {
    this.record('BUG', site, category, true, detail);
    throw new HostBugError(site, detail);
  }

  takeEvents(): Diagnostic[] {
    const e = this.events;
    this.events = [];
    return e;
  }
}
