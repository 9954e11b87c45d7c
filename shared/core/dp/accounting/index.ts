// The accountants by name, and calibration: the noise that meets a target (ε, δ).

import { DpError, invalid } from '../../errors';
import { advancedAccountant, basicAccountant, zcdpAccountant } from './simple';
import { pldAccountant } from './pld';
import { rdpAccountant } from './rdp';
import type { Accountant, AccountantName } from './types';

export type { Accountant, AccountantName, PrivacyGuarantee } from './types';
export type { DpEvent, BaseEvent, CountedEvent } from './events';
export { flattenEvents } from './events';

export const ACCOUNTANT_NAMES: readonly AccountantName[] = ['basic', 'advanced', 'zcdp', 'rdp', 'pld'];

const REGISTRY: Record<AccountantName, Accountant> = {
  basic: basicAccountant,
  advanced: advancedAccountant,
  zcdp: zcdpAccountant,
  rdp: rdpAccountant,
  pld: pldAccountant,
};

export function getAccountant(name: string): Accountant {
  const acc = (REGISTRY as Record<string, Accountant | undefined>)[name];
  if (!acc) throw invalid('accountant', name, `must be one of ${ACCOUNTANT_NAMES.join(', ')}`);
  return acc;
}

export { basicAccountant, advancedAccountant, zcdpAccountant, pldAccountant, rdpAccountant };
export { DpError };
