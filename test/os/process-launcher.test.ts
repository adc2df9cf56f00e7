/** The spawn servers start workers for a big engine process: same outcomes as spawning directly. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { directLauncher, type ProcessLauncher } from '../../src/os/process-launcher.js';
import { forkServerLauncher, nodeServerLauncher } from '../../src/os/fork-server-launcher.js';
import { nativeSpawnServer, nativeSpawnServerPath } from '../../src/os/native-spawn-server.js';
import { perlOnPath, perlSpawnServer } from '../../src/os/perl-spawn-server.js';
import { spawnServerLauncher, type SpawnServer } from '../../src/os/spawn-server.js';
import { startShellWorker } from '../../src/workers/shell-worker.js';

const dir = mkdtempSync(join(tmpdir(), 'overseer-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const perl = perlOnPath();
const native = nativeSpawnServerPath();
const noFallback = (): ProcessLauncher => ({ launch: () => Promise.resolve({ ok: false, error: 'fell back' }), close: () => undefined });
/** The Perl server alone: a launch it cannot make fails instead of going to another launcher. */
const perlOnly = (): ProcessLauncher => {
  if (perl === null) throw new Error('no perl on the PATH');
  return spawnServerLauncher(perlSpawnServer(perl), noFallback);
};
/** The native server alone. */
const nativeOnly = (): ProcessLauncher => {
  if (native === null) throw new Error('the native spawn server was not built');
  return spawnServerLauncher(nativeSpawnServer(native), noFallback);
};

it('finds the perl every Debian system has (perl-base is essential), so the engine spawns through it where no native server was built', () => {
  expect(perl).not.toBeNull();
});

it('has the native spawn server exactly where `npm run build` found a C compiler (else the Perl one is used)', () => {
  expect(native !== null).toBe(spawnSync(process.env.CC ?? 'cc', ['--version']).status === 0);
});

const launchers: [string, () => ProcessLauncher][] = [
  ['direct', () => directLauncher],
  ['node server', nodeServerLauncher],
  ['perl server', perlOnly],
  ...(native === null ? [] : [['native server', nativeOnly] as [string, () => ProcessLauncher]]),
];

describe.each(launchers)('%s launcher', (name, make) => {
  it('starts a detached process with its output in the log file and reports its exit', async () => {
    const launcher = make();
    const logFile = join(dir, `${name}.log`);
    const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', 'echo hello; echo oops >&2; exit 7'], cwd: dir, env: {}, logFile });
    expect(launched.ok).toBe(true);
    if (!launched.ok) return;
    expect(await launched.exited).toEqual({ code: 7, signal: null });
    expect(readFileSync(logFile, 'utf8')).toBe('hello\noops\n');
    launcher.close();
  });

  it('runs it in its own session, in the directory and with the environment changes it is given', async () => {
    const launcher = make();
    const logFile = join(dir, `${name}-env.log`);
    process.env.OVERSEER_TEST_DROPPED = 'inherited';
    try {
      const script = 'printf "%s|%s|%s|%s|%s\\n" "$(pwd)" "$KEPT" "${OVERSEER_TEST_DROPPED-unset}" "$1" "$(ps -o sid= -p $$ | tr -d " ")"';
      const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', script, 'sh', 'one arg\nwith a newline and ünïcode'], cwd: dir, env: { KEPT: 'a=b c', OVERSEER_TEST_DROPPED: undefined }, logFile });
      if (!launched.ok) throw new Error(launched.error);
      expect(await launched.exited).toEqual({ code: 0, signal: null });
      // A session of its own: its session id is its pid.
      expect(readFileSync(logFile, 'utf8')).toBe(`${dir}|a=b c|unset|one arg\nwith a newline and ünïcode|${String(launched.pid)}\n`);
    } finally {
      delete process.env.OVERSEER_TEST_DROPPED;
      launcher.close();
    }
  });

  it('reports the signal that ended a process', async () => {
    const launcher = make();
    const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', 'kill -TERM $$'], cwd: dir, env: {}, logFile: join(dir, `${name}-signal.log`) });
    if (!launched.ok) throw new Error(launched.error);
    expect(await launched.exited).toEqual({ code: null, signal: 'SIGTERM' });
    launcher.close();
  });

  it('reports a process that cannot start as a value', async () => {
    const launcher = make();
    const launched = await launcher.launch({ file: '/no/such/program', args: [], cwd: dir, env: {}, logFile: join(dir, 'x.log') });
    expect(launched).toMatchObject({ ok: false, error: expect.stringContaining('ENOENT') as unknown });
    launcher.close();
  });

  it('reports a log file it cannot open as a value', async () => {
    const launcher = make();
    const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', 'true'], cwd: dir, env: {}, logFile: join(dir, 'no', 'such', 'x.log') });
    expect(launched).toMatchObject({ ok: false, error: expect.stringContaining('no/such/x.log') as unknown });
    launcher.close();
  });

  it('starts many at once and tells each its own exit', async () => {
    const launcher = make();
    const launches = Array.from({ length: 40 }, (_, index) =>
      launcher.launch({ file: '/bin/sh', args: ['-c', `exit ${String(index % 7)}`], cwd: dir, env: {}, logFile: join(dir, `${name}-many.log`) }),
    );
    const exits = await Promise.all(
      launches.map(async (launching) => {
        const launched = await launching;
        if (!launched.ok) throw new Error(launched.error);
        return (await launched.exited).valueOf();
      }),
    );
    expect(exits).toEqual(Array.from({ length: 40 }, (_, index) => ({ code: index % 7, signal: null })));
    launcher.close();
  });
});

it('a NUL byte, which no process can be given, fails that launch only', async () => {
  const launcher = perlOnly();
  const refused = await launcher.launch({ file: '/bin/sh', args: ['-c', 'echo \0'], cwd: dir, env: {}, logFile: join(dir, 'nul.log') });
  expect(refused).toMatchObject({ ok: false, error: expect.stringContaining('NUL') as unknown });
  const next = await launcher.launch({ file: '/bin/sh', args: ['-c', 'exit 3'], cwd: dir, env: {}, logFile: join(dir, 'nul.log') });
  if (!next.ok) throw new Error(next.error);
  expect(await next.exited).toEqual({ code: 3, signal: null });
  launcher.close();
});

it("a user's Perl settings neither break the Perl server nor are taken from its processes", async () => {
  const saved = { PERL_UNICODE: process.env.PERL_UNICODE, PERL5OPT: process.env.PERL5OPT };
  Object.assign(process.env, { PERL_UNICODE: 'SDA', PERL5OPT: '-Mwarnings' });
  const launcher = perlOnly();
  try {
    const logFile = join(dir, 'perl-settings.log');
    const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', 'echo "$1 $PERL_UNICODE"', 'sh', 'ünïcode'], cwd: dir, env: {}, logFile });
    if (!launched.ok) throw new Error(launched.error);
    expect(await launched.exited).toEqual({ code: 0, signal: null });
    expect(readFileSync(logFile, 'utf8')).toBe('ünïcode SDA\n');
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    launcher.close();
  }
});

it.each([['Perl', () => perlSpawnServer(perl ?? 'perl')], ...(native === null ? [] : [['native', () => nativeSpawnServer(native)] as const])] as const)('the %s server reports every exit even when no SIGCHLD wakes it (one that comes just before it waits stays pending)', async (_name, make) => {
  if (perl === null) throw new Error('no perl on the PATH');
  // Started with SIGCHLD blocked, the server never runs a handler it does not unblock: the lost wake-up, every time.
  const server = make();
  const blocking = ['-MPOSIX', '-e', 'POSIX::sigprocmask(POSIX::SIG_BLOCK(), POSIX::SigSet->new(POSIX::SIGCHLD())) or die; exec @ARGV or die', server.command];
  const launcher = spawnServerLauncher({ ...server, command: perl, args: [...blocking, ...server.args] }, noFallback);
  // One at a time: no later launch wakes the server for the one before.
  for (const code of [0, 3, 9]) {
    const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', `exit ${String(code)}`], cwd: dir, env: {}, logFile: join(dir, 'unwoken.log') });
    if (!launched.ok) throw new Error(launched.error);
    expect(await launched.exited).toEqual({ code, signal: null });
  }
  launcher.close();
});

it('a server that never gets ready hands its launches, those already asked for too, to the next launcher', async () => {
  const broken: SpawnServer = { ...perlSpawnServer(perl ?? 'perl'), command: join(dir, 'no-such-server') };
  const launcher = spawnServerLauncher(broken, nodeServerLauncher);
  const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', 'exit 4'], cwd: dir, env: {}, logFile: join(dir, 'fallback.log') });
  if (!launched.ok) throw new Error(launched.error);
  expect(await launched.exited).toEqual({ code: 4, signal: null });
  launcher.close();
});

it('a worker whose spawn server died is still followed to its end through its status file', async () => {
  const launcher = forkServerLauncher();
  const started = await startShellWorker({ command: 'sleep 0.3; exit 5', cwd: dir, runId: 'r', workerId: 'w', attempt: 1, packet: {}, objective: 'o', logDir: dir, launcher });
  if (!started.ok) throw new Error(started.error);
  launcher.close(); // the server exits: it can no longer report the exit
  expect(await started.exited).toEqual({ code: 5, signal: null });
});
