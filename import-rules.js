/**
 * Which folder may import which: the layout in README.md, enforced by `no-restricted-imports` so
 * `npm run lint` fails on a wrong-way import. An arrow means "may import", across floors downward:
 *
 *   cli, web, mcp  →  engine, inspect  →  fold, gates, workers, planning, store  →  machines, rpc, os
 *
 * Within a floor: cli may import web (serve) and mcp (the mcp command); engine and inspect never import each other (what both
 * need belongs in fold); the middle floor imports only along fold → gates → workers → planning → store;
 * at the bottom only rpc → os, and machines/ imports nothing of src/. The top floor reaches a store
 * only through its public modules, and one CLI command never imports another's file (main.ts loads them).
 * Every folder of src/ may import src/errors.ts (the one base of the errors with a code): it imports nothing.
 *
 * Imports are matched by the folder names in their relative path, which is exact here since no folder
 * under src/ reuses a layer's name. test/ and bench/ may import anything.
 */
const FLOORS = [
  ['cli', 'web', 'mcp'],
  ['engine', 'inspect'],
  ['fold', 'gates', 'workers', 'planning', 'store'],
  ['machines', 'rpc', 'os'],
];

/** Imports allowed within a floor, beyond the floors below. */
const SAME_FLOOR = {
  cli: ['web', 'mcp'],
  fold: ['gates', 'workers', 'planning', 'store'],
  gates: ['workers', 'planning', 'store'],
  workers: ['planning', 'store'],
  planning: ['store'],
  rpc: ['os'],
};

const STORE_PUBLIC = ['open-store', 'event-store', 'store-errors', 'store-admin'];

const floorOf = (folder) => FLOORS.findIndex((floor) => floor.includes(folder));
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const allowedFor = (folder) => [...(SAME_FLOOR[folder] ?? []), ...FLOORS.slice(floorOf(folder) + 1).flat()];
const forbiddenFor = (folder) => FLOORS.flat().filter((f) => f !== folder && !allowedFor(folder).includes(f));
const label = (folder) => (folder === 'machines' ? 'machines/' : `src/${folder}/`);

/** A relative import that reaches into `folders`, e.g. `../store/x.js` or `../../src/store/x.js`. */
const into = (folders) => `^\\.\\.?/(?:.*/)?(?:${folders.map(escape).join('|')})/`;

function patternsFor(folder, { commandsAllowed = false } = {}) {
  // machines/ sits beside src/: any import into src/ is the wrong way.
  if (folder === 'machines') return [{ regex: '^\\.\\./src/', message: 'machines/ are pure: they import nothing from src/.' }];
  const patterns = [];
  const forbidden = forbiddenFor(folder);
  if (forbidden.length > 0) {
    const may = allowedFor(folder).map(label).join(', ') || 'nothing of src/';
    patterns.push({ regex: into(forbidden), message: `imports run one way: ${label(folder)} may import ${may} (see import-rules.js).` });
  }
  if (floorOf(folder) === 0) {
    patterns.push({
      regex: `^\\.\\.?/(?:.*/)?store/(?!(?:${STORE_PUBLIC.join('|')})\\.js$)`,
      message: `the top floor reaches a store only through ${STORE_PUBLIC.map((m) => `store/${m}.ts`).join(', ')}.`,
    });
  }
  if (folder === 'cli' && !commandsAllowed) {
    patterns.push({ regex: '^\\./[^/]+-command\\.js$', message: "one command must not import another's file: move what they share into a cli module." });
  }
  return patterns;
}

const rule = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export const importRules = [
  ...FLOORS.flat().map((folder) => ({
    files: [folder === 'machines' ? 'machines/**/*.ts' : `src/${folder}/**/*.ts`],
    rules: rule(patternsFor(folder)),
  })),
  { files: ['src/cli/main.ts'], rules: rule(patternsFor('cli', { commandsAllowed: true })) },
];
