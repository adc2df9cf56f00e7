/**
 * Row 11: the README's first command on a machine that never ran Overseer, in a new folder:
 * `overseer run --plan examples/hello.yaml --auto-approve` with no `--db`, timed from spawning the
 * built CLI to its exit. An absolute target (seconds), like row 8's MiB: there is nothing to compare
 * a first run with.
 *
 * "Never ran" is simulated per round: a fresh HOME (so no store template in ~/.cache/overseer, see
 * src/store/embedded/cluster-files.ts) and a fresh project folder, so the run makes its cluster from
 * scratch. What a round creates is removed after it: the server is stopped (`store stop --force`),
 * and a cluster placed outside the project (as root, /var/lib/overseer/<hash>: store-location.ts) is
 * removed with the folders.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { median } from './lib/measure.js';
import { OVERSEER_BIN } from './lib/overseer-bin.js';
import { timedSpawn } from './lib/processes.js';

export const HELLO_PLAN = join(dirname(OVERSEER_BIN), '..', 'examples', 'hello.yaml');

export interface FirstRunFigures {
  /** Median wall seconds of the first run. */
  seconds: number;
  /** Every round's seconds, in order. */
  all: number[];
}

/** A new HOME and project folder, the plan copied into the project as examples/hello.yaml. */
async function freshMachine(): Promise<{ root: string; home: string; project: string; env: NodeJS.ProcessEnv }> {
  const root = await mkdtemp(join(tmpdir(), 'overseer-bench-first-run-'));
  // A folder a user makes is enterable by others; as root the server's user then keeps its cluster in
  // the project, as it would for anyone (a 0700 mkdtemp folder would send it to /var/lib/overseer).
  await chmod(root, 0o755);
  const home = join(root, 'home');
  const project = join(root, 'project');
  await mkdir(home);
  await mkdir(join(project, 'examples'), { recursive: true });
  await copyFile(HELLO_PLAN, join(project, 'examples', 'hello.yaml'));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') };
  delete env.OVERSEER_DB;
  return { root, home, project, env };
}

/** Stops the round's server and removes all it made, its cluster included wherever it was placed. */
async function removeMachine(machine: { root: string; project: string; env: NodeJS.ProcessEnv }): Promise<void> {
  const stopped = await timedSpawn(process.execPath, [OVERSEER_BIN, 'store', 'stop', '--force'], machine.project, machine.env);
  const pointer = await readFile(join(machine.project, '.overseer', 'pg', 'location'), 'utf8').catch(() => '');
  const home = pointer.trim();
  if (isAbsolute(home)) await rm(home, { recursive: true, force: true });
  await rm(machine.root, { recursive: true, force: true });
  if (stopped.code !== 0) throw new Error(`overseer store stop --force exited ${String(stopped.code)}:\n${stopped.stderr}`);
}

export async function benchFirstRun(rounds: number): Promise<FirstRunFigures> {
  const all: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const machine = await freshMachine();
    try {
      const exited = await timedSpawn(process.execPath, [OVERSEER_BIN, 'run', '--plan', 'examples/hello.yaml', '--auto-approve'], machine.project, machine.env);
      if (exited.code !== 0) throw new Error(`the first run exited ${String(exited.code)}:\n${exited.stderr}`);
      all.push(exited.ms / 1000);
    } finally {
      await removeMachine(machine);
    }
  }
  return { seconds: median(all), all };
}
