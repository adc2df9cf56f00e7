/**
 * For browser tests of `overseer serve`: start the real command and read its URL and token, and
 * launch Debian's Chromium through playwright-core (never a downloaded browser).
 */
import { chromium, type Browser } from 'playwright-core';
import { eventually, overseerProcess, type CliResult } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface ServedViewer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  token: string;
  pid: number | undefined;
  output: () => CliResult;
  /** Ctrl-C, then what it printed and its exit code. */
  stop(): Promise<CliResult>;
}

export async function startServe(db: string, cwd: string): Promise<ServedViewer> {
  const serving = overseerProcess(['serve', '--port', '0', '--db', db], { cwd });
  const [, url, token] = await eventually(
    () => {
      if (serving.exitCode !== null) throw new Error(`overseer serve exited ${String(serving.exitCode)}: ${serving.output().stderr}`);
      return /serving (http:\/\/\S+) — token (\w+)/.exec(serving.output().stderr) ?? undefined;
    },
    30_000,
    'overseer serve to start',
  );
  return {
    url: url ?? '',
    token: token ?? '',
    pid: serving.pid,
    output: serving.output,
    async stop() {
      if (serving.exitCode === null) serving.kill('SIGINT');
      return serving.done;
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
