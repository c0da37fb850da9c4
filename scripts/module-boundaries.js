// Which top-level folder of src/ may import which (docs/architecture.md, "Module map"): the one
// table the ESLint boundary rule (eslint.config.js, import-x/no-restricted-paths) and the import
// graph (scripts/import-graph.js) read. Modules are ranked; a module imports only modules of a
// lower rank. Dependencies point one way, so no two folders can import each other.

/** Lower ranks first; a module may import any module of a lower rank, none of its own or above. */
export const RANKS = [
  ['clock', 'config'],
  ['telemetry', 'crypto'],
  ['storage'],
  ['health'],
  ['http'],
  // Pages: the renderer, catalogs, templates, cookies, CSRF, page errors (the account pages are above).
  ['web', 'audit'],
  ['homeserver'],
  ['events'],
  ['oauth2'],
  // The Matrix side: discovery routes, the Matrix error shape, the localpart grammar.
  ['matrix'],
  ['upstream'],
  ['identity'],
  ['login'],
  // Writes any error in the shape of the protocol a route speaks (the global exception filter).
  ['errors'],
  // The HTTP edges and the commands: they use everything below and nothing uses them.
  ['compat', 'account', 'admin', 'doctor', 'maintenance', 'migration', 'cli'],
];

export const MODULES = RANKS.flat();

/** The folders `module` may import. */
export function allowedImports(module) {
  const rank = RANKS.findIndex((r) => r.includes(module));
  if (rank < 0) throw new Error(`src/${module}: not in scripts/module-boundaries.js (add it to RANKS)`);
  return RANKS.slice(0, rank).flat();
}
