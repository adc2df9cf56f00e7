/**
 * Where the viewer's files are. The page is plain static files in src/web/static, served as they are
 * (no build step), and mermaid's browser bundle is served from node_modules. The code that serves them
 * runs from src/ (tests), dist/src/ (tsc) or dist/bundle/ (the CLI's esbuild bundle), so files are found
 * from the package root, not from this module's own folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'overseer';

function isOurPackage(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
}

export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (isOurPackage(dir)) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package above ${from}`);
  }
}

export interface ViewerFiles {
  /** The folder of the page's own files (HTML, CSS, browser JS). */
  staticDir: string;
  /** mermaid's self-contained browser build. */
  mermaidScript: string;
}

export function viewerFiles(root: string = packageRoot()): ViewerFiles {
  // Resolved like an import from the package, so a hoisted install (node_modules beside ours) works too.
  const require = createRequire(join(root, 'package.json'));
  return { staticDir: join(root, 'src', 'web', 'static'), mermaidScript: require.resolve('mermaid/dist/mermaid.min.js') };
}
