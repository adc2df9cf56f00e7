/**
 * One running service process: `/bin/sh -c CMD` in its own process group, stdout read as lines,
 * stderr appended to a log file (and its tail kept for messages), its exit reported once both pipes
 * have drained so a reply printed just before exiting is not lost. Nothing here throws at the host
 * for the service's sake: a write to a dead service (EPIPE) is dropped, the exit says what happened.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, mkdirSync, openSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { killProcessTree } from '../os/kill-process-tree.js';
import { checkDirectory } from '../os/working-directory.js';
import type { ServiceExit } from './service-errors.js';

export interface ServiceProcessSpec {
  name: string;
  command: string;
  cwd: string;
  /** On top of the host's environment. */
  env?: Record<string, string>;
  logFile: string;
}

export interface ServiceProcessHooks {
  /** A non-blank line from stdout, without its line ending. */
  onLine(line: string): void;
  /** Once, after the process exited and its output was read to the end. */
  onExit(exit: ServiceExit): void;
}

export type SpawnOutcome = { ok: true; process: ServiceProcess } | { ok: false; reason: string };

/** A reply longer than this without a newline is cut off and reported as not JSON. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;
const STDERR_TAIL_CHARS = 4096;
/** If a grandchild keeps the pipes open after the service exited, its exit is reported anyway. */
const DRAIN_AFTER_EXIT_MS = 250;

export async function spawnServiceProcess(spec: ServiceProcessSpec, hooks: ServiceProcessHooks): Promise<SpawnOutcome> {
  const cwdProblem = checkDirectory(spec.cwd);
  if (cwdProblem !== null) return { ok: false, reason: cwdProblem };

  let log: WriteStream;
  try {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    // Opened synchronously so a bad path is a start failure, not a stream error later.
    const fd = openSync(spec.logFile, 'a');
    log = createWriteStream('', { fd, flags: 'a' });
  } catch (error) {
    return { ok: false, reason: `cannot open log file ${spec.logFile}: ${messageOf(error)}` };
  }

  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn('/bin/sh', ['-c', spec.command], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      // Its own group: one signal stops it and whatever it started; Ctrl-C at the terminal reaches the
      // engine, which decides.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    // Invalid arguments (a NUL byte in the command or env) throw synchronously.
    log.end();
    return { ok: false, reason: messageOf(error) };
  }

  const spawned = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', resolve);
  });
  if (spawned !== null || child.pid === undefined) {
    log.end();
    return { ok: false, reason: messageOf(spawned ?? 'no process id') };
  }
  return { ok: true, process: new ServiceProcess(spec, child, child.pid, log, hooks) };
}

export class ServiceProcess {
  private stdoutRest = '';
  private stderrTail = '';
  private exit: ServiceExit | null = null;
  private rawExit: { code: number | null; signal: string | null } | null = null;
  private logProblem: string | null = null;
  private readonly finished: Promise<ServiceExit>;
  private finish!: (exit: ServiceExit) => void;

  constructor(
    spec: ServiceProcessSpec,
    private readonly child: ChildProcessWithoutNullStreams,
    readonly pid: number,
    private readonly log: WriteStream,
    private readonly hooks: ServiceProcessHooks,
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    liveGroups.add(pid);
    ensureExitHook();
    this.note(`${spec.name} started, pid ${String(pid)}, ${new Date().toISOString()}: ${spec.command}`);

    // A log that cannot be written (disk full) must not stop the service; a person is told once.
    log.on('error', (error) => {
      if (this.logProblem !== null) return;
      this.logProblem = messageOf(error);
      process.stderr.write(`overseer: cannot write the ${spec.name} log ${spec.logFile}: ${this.logProblem}\n`);
    });
    // EPIPE and friends: the service is gone or stopped reading; its exit (or the call's timeout) tells.
    child.stdin.on('error', () => undefined);
    // After a successful spawn only a failed signal raises this; the kill path checks the group itself.
    child.on('error', () => undefined);
    // A read error on a pipe is followed by its close, which reports the exit; keep the reason in the log.
    child.stdout.on('error', (error) => this.note(`stdout: ${messageOf(error)}`));
    child.stderr.on('error', (error) => this.note(`stderr: ${messageOf(error)}`));
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.readStdout(chunk));
    child.stderr.on('data', (chunk: string) => this.readStderr(chunk));
    child.once('exit', (code, signal) => {
      this.rawExit = { code, signal };
      liveGroups.delete(pid);
      setTimeout(() => this.settle(), DRAIN_AFTER_EXIT_MS).unref();
    });
    child.once('close', () => this.settle());
  }

  /** Adds a line of Overseer's own to the log, so the log reads as a story beside the service's stderr. */
  note(text: string): void {
    this.writeLog(`--- overseer: ${text}\n`);
  }

  /** Queues a line for the service; a service that is gone or not reading simply never answers it. */
  write(text: string): void {
    if (this.exit !== null || this.child.stdin.destroyed || this.child.stdin.writableEnded) return;
    this.child.stdin.write(text);
  }

  /** Resolves true if the process ended (and was drained) within `ms`. */
  async waitForExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const ended = await Promise.race([this.finished.then(() => true), timedOut]);
    clearTimeout(timer);
    return ended;
  }

  /**
   * Closes stdin (a seed-style service ends at EOF), then SIGTERM to the whole group, SIGKILL after
   * `graceMs`; also clears what a crashed service left behind in its group.
   */
  async stop(graceMs: number): Promise<ServiceExit> {
    const wasRunning = this.exit === null;
    if (!this.child.stdin.writableEnded) this.child.stdin.end();
    await this.waitForExit(Math.min(200, graceMs));
    const signal = await killProcessTree(this.pid, { graceMs });
    liveGroups.delete(this.pid);
    const exit = await this.finished;
    if (wasRunning) this.note(signal === 'none' ? 'stopped at the end of its input' : `stopped with ${signal}`);
    await new Promise<void>((resolve) => this.log.end(resolve));
    return exit;
  }

  private readStdout(chunk: string): void {
    this.stdoutRest += chunk;
    let newline = this.stdoutRest.indexOf('\n');
    while (newline !== -1) {
      this.emitLine(this.stdoutRest.slice(0, newline));
      this.stdoutRest = this.stdoutRest.slice(newline + 1);
      newline = this.stdoutRest.indexOf('\n');
    }
    if (this.stdoutRest.length > MAX_LINE_CHARS) {
      this.emitLine(this.stdoutRest);
      this.stdoutRest = '';
    }
  }

  private emitLine(line: string): void {
    const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (trimmed.trim() !== '') this.hooks.onLine(trimmed);
  }

  private readStderr(chunk: string): void {
    this.writeLog(chunk);
    this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  }

  private writeLog(text: string): void {
    if (this.logProblem === null && this.log.writable) this.log.write(text);
  }

  private settle(): void {
    if (this.exit !== null || this.rawExit === null) return;
    // A last reply printed without a newline still counts.
    if (this.stdoutRest !== '') this.emitLine(this.stdoutRest);
    this.stdoutRest = '';
    const lines = this.stderrTail.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    this.exit = { exitCode: this.rawExit.code, signal: this.rawExit.signal, lastStderrLine: lines.at(-1) ?? null };
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    this.hooks.onExit(this.exit);
    this.finish(this.exit);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Groups whose leader still runs. A host that exits without stopping its services (process.exit in a
 * CLI path) sends them SIGTERM on the way out, so a hung service is not left behind. A group whose
 * leader has exited is dropped from the set: its id may be reused by an unrelated group.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function ensureExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGTERM');
      } catch (error) {
        // Gone already (ESRCH) is what we wanted; anything else is only worth a line while the host exits.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
          process.stderr.write(`overseer: could not stop service process group ${String(pgid)}: ${messageOf(error)}\n`);
        }
      }
    }
  });
}
