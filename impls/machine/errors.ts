// Conditions that end an op abnormally. They are thrown inside a model and caught by the op
// dispatcher, which turns them into observable outcomes.

/** A model loop exceeded its step budget: the design livelocks (e.g. a FROZEN SPTE never restored). */
export class HangError extends Error {
  constructor(readonly where: string) { super(`step budget exceeded in ${where}`); }
}

/** BUG(): the host kernel crashes. The VM (and the host) are dead afterwards. */
export class HostBugError extends Error {
  constructor(readonly site: string, readonly detail: string) { super(`BUG() at ${site}: ${detail}`); }
}
