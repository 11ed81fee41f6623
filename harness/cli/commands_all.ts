// Loads every subcommand module so each registers itself (import for side effects only).
import './cmd_mutants';
import './cmd_minimize';
import './cmd_explain';
import './cmd_import';
import './cmd_merge';
export {};
