/**
 * A launcher over a spawn server: a small long-lived process that starts each worker's process for
 * the engine (see fork-server-launcher.ts for why, and for which program plays the part). The server
 * says `ready` once it runs, then reads one request per launch and answers with lines: the process's
 * pid once it runs, or why it could not start; later, how it exited.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { LaunchRequest, Launched, ProcessExit, ProcessLauncher } from './process-launcher.js';

/** One line from the server about one request. */
export type ServerReply =
  | { id: number; kind: 'started'; pid: number; processStartTime: string | null }
  | { id: number; kind: 'failed'; error: string }
  | { id: number; kind: 'exited'; exit: ProcessExit };

export interface SpawnServer {
  /** Which server it is, for people: `native`, `perl`, `node`. */
  name: string;
  /** The server's program and arguments. */
  command: string;
  args: string[];
  /** The request as the server reads it, or why it cannot be sent. */
  encode(id: number, request: LaunchRequest): string | { error: string };
  /** Any line but the first, `ready`. */
  decode(line: string): ServerReply;
}

interface Pending {
  started: (launched: Launched) => void;
  exited: (exit: ProcessExit | 'lost') => void;
}

/**
 * Launches through the server. A server that never got ready (its program is missing or broken)
 * hands every launch to `fallback`, those asked for meanwhile included; one that dies later loses the
 * processes it was watching (see below) and hands on the launches after it. Processes start from this
 * process's environment as it is now: changes made to `process.env` later do not reach them (the
 * engine makes its launcher when it starts).
 */
export function spawnServerLauncher(server: SpawnServer, fallback: () => ProcessLauncher): ProcessLauncher {
  const child = spawn(server.command, server.args, { env: { ...process.env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map<number, Pending>();
  /** Requests asked for before the server was ready: written once it is, or launched by the fallback. */
  let waiting: { request: LaunchRequest; resolve: (launched: Launched | Promise<Launched>) => void }[] | null = [];
  let nextId = 1;
  let gone = false;
  let other: ProcessLauncher | null = null;
  const otherLauncher = (): ProcessLauncher => (other ??= fallback());
  // The server must not keep the engine alive, nor outlive it: it exits when our end of its stdin closes.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stdin as unknown as { unref(): void }).unref();
  child.stdin.on('error', () => undefined);

  const send = (request: LaunchRequest): Promise<Launched> => {
    const id = nextId++;
    const encoded = server.encode(id, request);
    if (typeof encoded !== 'string') return Promise.resolve({ ok: false, error: encoded.error });
    return new Promise((resolve) => {
      pending.set(id, { started: resolve, exited: () => undefined });
      child.stdin.write(encoded);
    });
  };

  createInterface({ input: child.stdout }).on('line', (line) => {
    if (waiting !== null) {
      if (line !== 'ready') return;
      for (const queued of waiting) queued.resolve(send(queued.request));
      waiting = null;
      return;
    }
    const reply = server.decode(line);
    const launch = pending.get(reply.id);
    if (launch === undefined) return;
    if (reply.kind === 'failed') {
      pending.delete(reply.id);
      launch.started({ ok: false, error: reply.error });
    } else if (reply.kind === 'started') {
      const exited = new Promise<ProcessExit | 'lost'>((resolve) => (launch.exited = resolve));
      launch.started({ ok: true, pid: reply.pid, processStartTime: reply.processStartTime, exited, unref: () => undefined });
    } else {
      pending.delete(reply.id);
      launch.exited(reply.exit);
    }
  });
  // A dead server cannot tell us how its children end: callers then find out from the files the
  // workers leave ('lost' sends them to the same reattach path as after an engine crash).
  const lose = (): void => {
    if (gone) return;
    gone = true;
    for (const queued of waiting ?? []) queued.resolve(otherLauncher().launch(queued.request));
    waiting = null;
    for (const launch of pending.values()) {
      launch.started({ ok: false, error: 'the process launcher exited' });
      launch.exited('lost');
    }
    pending.clear();
  };
  child.on('exit', lose);
  child.on('error', lose);

  return {
    launch(request) {
      if (gone) return otherLauncher().launch(request);
      if (waiting === null) return send(request);
      const queue = waiting;
      return new Promise<Launched>((resolve) => queue.push({ request, resolve }));
    },
    close() {
      child.stdin.end();
      other?.close();
    },
  };
}
