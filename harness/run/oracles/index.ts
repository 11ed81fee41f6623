// The oracle registry: every per-design oracle of a run, in the order their hooks run. Adding an
// oracle is one file in this folder (see oracle.ts for the contract) and one line here.
import { DIAGNOSTICS } from './diagnostics';
import { FROZEN } from './frozen';
import { HANG_EXCEPTION } from './hang_exception';
import { LEDGER } from './ledger';
import { MIRROR_SEPT } from './mirror_sept';
import type { Oracle } from './oracle';
import { RCU_UAF } from './rcu_uaf';
import { RECLAIM_ORDER } from './reclaim_order';
import { STATS } from './stats';

export const ORACLES: readonly Oracle[] = [
  LEDGER,
  RCU_UAF,
  MIRROR_SEPT,
  FROZEN,
  STATS,
  RECLAIM_ORDER,
  DIAGNOSTICS,
  HANG_EXCEPTION,
];
