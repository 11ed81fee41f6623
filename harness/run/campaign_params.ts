// What defines a campaign's sequences and how they are judged — the same seven fields travel from
// the CLI to the workers, into stats.json and into the report's scope.
import type { VmConfig } from '../../impls/api';
import type { Equivalence } from './compare';
import type { Domain } from '../seq/domain';

export interface CampaignParams {
  seed: string | number;
  equiv: Equivalence;
  domain: Domain;
  config: VmConfig;
  faultRate: number;
  raceRate: number;
  maxOps: number;
}
