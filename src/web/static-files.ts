/**
 * The page's files, served as they are from src/web/static, and mermaid's browser build. Only the
 * files named here are served: a request path never becomes a file path.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'hono';
import type { ViewerFiles } from './package-files.js';

const TYPES = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
} as const;

/** The files under /static/ (the pages themselves are served at / and /runs/:id). */
export const STATIC_FILES: Record<string, keyof typeof TYPES> = {
  'viewer.css': 'css',
  'viewer.js': 'js',
  'runs.js': 'js',
  'run.js': 'js',
  'lane-row.js': 'js',
  'virtual-list.js': 'js',
  'favicon.svg': 'svg',
};

const PAGE_NAMES = ['index.html', 'run.html'] as const;
export type PageName = (typeof PAGE_NAMES)[number];

/**
 * The pages and files are read once, when the server starts: a run's page starts its read-ahead
 * (run-indexes.ts) as it is asked for, and a read of the file from disk after it came back only once
 * that read-ahead's rows were parsed, which on a busy machine held the page and its scripts for
 * hundreds of milliseconds.
 */
export class StaticFiles {
  readonly #files: ViewerFiles;
  readonly #read = new Map<string, Promise<Buffer>>();
  #mermaid: Promise<Buffer> | undefined;

  constructor(files: ViewerFiles) {
    this.#files = files;
    for (const name of [...PAGE_NAMES, ...Object.keys(STATIC_FILES)]) {
      const read = readFile(join(files.staticDir, name));
      // A missing file is told by the request for it.
      read.catch(() => undefined);
      this.#read.set(name, read);
    }
  }

  async page(c: Context, name: PageName): Promise<Response> {
    return this.#send(c, await this.#contents(name), TYPES.html, 'no-cache');
  }

  async file(c: Context, name: string): Promise<Response> {
    const kind = Object.hasOwn(STATIC_FILES, name) ? STATIC_FILES[name] : undefined;
    if (kind === undefined) return c.json({ error: `no file ${name}` }, 404);
    return this.#send(c, await this.#contents(name), TYPES[kind], 'no-cache');
  }

  /** Read in the constructor: only pages and files named above are ever asked for. */
  #contents(name: string): Promise<Buffer> {
    const read = this.#read.get(name);
    if (read === undefined) throw new Error(`${name} is not a page or file of the viewer`);
    return read;
  }

  async mermaid(c: Context): Promise<Response> {
    // 3.5 MB, read once; browsers keep it for a day.
    this.#mermaid ??= readFile(this.#files.mermaidScript);
    return this.#send(c, await this.#mermaid, TYPES.js, 'public, max-age=86400');
  }

  #send(c: Context, body: Buffer, type: string, cache: string): Response {
    c.header('Content-Type', type);
    c.header('Cache-Control', cache);
    return c.body(new Uint8Array(body));
  }
}
