/**
 * Services for RPC tests: the misbehaving peer in each of its modes, and the example services, as the
 * shell commands a user would pass to `--planner` and friends. Each test gets its own folder for logs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceClient, type RpcCaller, type ServiceClientOptions } from '../../src/rpc/service-client.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PEER = fileURLToPath(new URL('./services/misbehaving_service.py', import.meta.url));

function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `python3 misbehaving_service.py MODE ARGS...`, quoted for /bin/sh. */
export function peerCommand(mode: string, ...args: string[]): string {
  return ['python3', PEER, mode, ...args].map(quote).join(' ');
}

export const EXAMPLE_COMMANDS = {
  planner: 'python3 examples/services/planner.py',
  bootstrap: 'python3 examples/services/bootstrap.py',
  worker: 'node examples/services/worker.js',
} as const;

export interface ServiceTestContext {
  dir: string;
  /** A client for `command` with its log in the test's folder; stopped by `dispose`. */
  client(command: string, options?: Partial<ServiceClientOptions>): ServiceClient;
  dispose(): Promise<void>;
}

export async function serviceTestContext(): Promise<ServiceTestContext> {
  const dir = await mkdtemp(join(tmpdir(), 'overseer-rpc-'));
  const clients: ServiceClient[] = [];
  return {
    dir,
    client(command, options = {}) {
      const name = options.name ?? 'peer';
      const client = new ServiceClient({ name, command, cwd: REPO_ROOT, logFile: join(dir, `${name}.log`), ...options });
      clients.push(client);
      return client;
    },
    async dispose() {
      await Promise.all(clients.map((client) => client.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RecordedCall {
  method: string;
  params: unknown;
}

/** Passes calls through to a real client and keeps what was asked, in order. */
export function recording(caller: RpcCaller): RpcCaller & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    name: caller.name,
    calls,
    call(method, params, options) {
      calls.push({ method, params });
      return caller.call(method, params, options);
    },
  };
}
