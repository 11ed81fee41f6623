// The two domains of sequences (DESIGN §4): `legal` is only what the kernel can issue; `extended`
// adds misuse the kernel never does (atomic zaps of mirror SPTEs, page-table zaps while the TD is
// alive, aging mirror roots, releasing the hkid early), where the designs differ on purpose.
export type Domain = 'legal' | 'extended';

export const DOMAINS: readonly Domain[] = ['legal', 'extended'];
