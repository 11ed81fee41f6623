// Loads every subcommand module so each registers itself (import for side effects only).
export {};
