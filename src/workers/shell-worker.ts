/**
 * The shell worker driver: runs a packet's command with `/bin/sh -c`, detached in its own process
 * group, output straight into a per-attempt log file. A small wrapper shell writes its pid and start
 * time to a process file before the command runs, so an engine that crashed before it recorded the
 * start can find the worker again (see reattach-worker.ts), and adds the command's exit code to that
 * file when it ends, so an engine that restarted can still learn how a worker that outlived it
 * finished (see read-exit-status.ts). When the command ends, what it left running in its process
 * group is stopped: a worker's processes do not outlive it.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_KILL_GRACE_MS, stopProcessGroup } from '../os/kill-process-tree.js';
import { directLauncher, type EnvChanges, type ProcessLauncher } from '../os/process-launcher.js';
import { checkDirectory } from '../os/working-directory.js';
import type { WorkerExit } from './worker-driver.js';
import { processStartTime } from '../os/process-identity.js';
import { reattachShellWorker } from './reattach-worker.js';
import { SIZED_PACKET_VARIABLES, taskPacketVariables } from './task-packet-variables.js';

export interface ShellWorkerSpec {
  command: string;
  cwd: string;
  /** The packet's own variables, on top of the engine's environment. */
  env?: Record<string, string>;
  runId: string;
  workerId: string;
  /** The name the attempt's files go by; the worker's id when not given (a gate's carry its name too). */
  filesId?: string | undefined;
  attempt: number;
  /** Handed to the command as JSON in the file OVERSEER_TASK_PACKET_FILE names (see task-packet-variables.ts). */
  packet: Record<string, unknown>;
  objective: string;
  logDir: string;
  /** How the process is started; by default from this process. */
  launcher?: ProcessLauncher | undefined;
  /** How long what the command leaves running gets between SIGTERM and SIGKILL once it ends. */
  graceMs?: number | undefined;
}

export type { WorkerExit } from './worker-driver.js';

export interface StartedShellWorker {
  ok: true;
  pid: number;
  /** With the pid, identifies the process across pid reuse; null if it could not be read. */
  processStartTime: string | null;
  logFile: string;
  /** Where its exit code will be (the process file, absolute); recorded as the start's `statusFile`. */
  statusFile: string;
  /**
   * Settles once the command has ended and what it left in its process group is stopped. 'lost': the
   * process is gone without an exit status (killed with its wrapper).
   */
  exited: Promise<WorkerExit | 'lost'>;
  /** Lets the engine exit while the worker runs on (it is found again by its process file). */
  unref(): void;
}

export interface ShellWorkerSpawnFailed {
  ok: false;
  kind: 'spawn_failed';
  error: string;
}

export type ShellWorkerStart = StartedShellWorker | ShellWorkerSpawnFailed;

/**
 * `$1` is the command, `$2` the process file (absolute: the command may `cd`). The wrapper writes its
 * pid and start time there BEFORE the command starts, so a command that ran always left one behind:
 * an engine killed right after spawning cannot lose track of it (that line is how resume finds it
 * instead of starting a second one). When the command ends, its exit code is appended as a second
 * line. One file, not a pid file and a status file: creating a file is most of what the wrapper costs
 * on some filesystems (ext4 without a journal, after many deletions: 0.1-0.8 ms each). Its start time
 * is field 22 of /proc/$$/stat (field 2 is "(sh)", no spaces), the same reading as
 * process-identity.ts, read with the shell's own `read` straight into fields: every process the
 * wrapper starts besides the command is paid on every task (`cut` and two `mv`s were most of a `true`
 * task's cost), and so is splitting the line again (`set -- ${stat##*) }` cost as much as reading it).
 * Each line is written by one short write(2), so a reader finds the file absent, empty (the wrapper is
 * between creating and writing it, as good as absent), with the pid line, or with both.
 *
 * The command runs in the wrapper itself, with no positional parameters, and an EXIT trap writes its
 * status (`command printf`: not a function the command may have named printf), so an `exit` inside
 * it, a syntax error or `set -e` still leaves one. Running it in a subshell instead cost a fork per
 * task (a third of the wrapper's CPU for a `true` task). Only a
 * command that names `exec` or `trap` could still escape the trap, by replacing the shell or the
 * trap: such a command runs in a subshell, as all did before. If the whole group is signalled the
 * wrapper dies too and writes nothing: the engine that sent the signal knows why the worker ended.
 */
const WRAPPER = `start=null
if read -r _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ stat _ < /proc/$$/stat 2>/dev/null && [ -n "$stat" ]; then start="\\"$stat\\""; fi
printf '{"pid":%s,"processStartTime":%s}\\n' "$$" "$start" > "$2" || exit 125
overseer_file=$2
trap 'overseer_code=$?; command printf "%s\\n" "$overseer_code" >> "$overseer_file"; exit "$overseer_code"' EXIT
cmd=$1
set --
case $cmd in
*exec*|*trap*) (eval "$cmd") ;;
*) eval "$cmd" ;;
esac`;

export interface WorkerFiles {
  logFile: string;
  /** The wrapper's pid and start time, then the command's exit code (see WRAPPER); absolute. */
  processFile: string;
  packetFile: string;
  /** Where wrappers before the process file wrote the pid line and the exit code: read, never written. */
  legacy: { pidFile: string; statusFile: string };
}

/** Where one attempt's files live: `<stem>.log`, `<stem>.proc`, `<stem>.packet.json`. */
export function workerFiles(logDir: string, workerId: string, attempt: number): WorkerFiles {
  const stem = join(logDir, `${workerId.replace(/[^A-Za-z0-9._-]/g, '_')}.${String(attempt)}`);
  // The process file absolute: the wrapper writes it after the command may have `cd`-ed, and it is recorded as the start's statusFile.
  return { logFile: `${stem}.log`, processFile: resolve(`${stem}.proc`), packetFile: `${stem}.packet.json`, legacy: { pidFile: `${stem}.pid`, statusFile: `${stem}.status` } };
}

/** What the process file's first line holds: enough to tell this process from a later one with the same pid. */
export interface PidFileContent {
  pid: number;
  processStartTime: string | null;
}

export async function startShellWorker(spec: ShellWorkerSpec): Promise<ShellWorkerStart> {
  const cwdProblem = checkDirectory(spec.cwd);
  if (cwdProblem !== null) return spawnFailed(cwdProblem);

  const { logFile, processFile: statusFile, packetFile } = workerFiles(spec.logDir, spec.filesId ?? spec.workerId, spec.attempt);
  const packetJson = JSON.stringify(spec.packet);
  try {
    mkdirSync(spec.logDir, { recursive: true });
    // A status left by an earlier start of this same attempt would be read as this one's outcome
    // until the wrapper rewrites the file. Checked first: removing a file that is not there (the usual
    // case) throws inside rmSync, and building those errors was a measurable part of starting a short task.
    if (existsSync(statusFile)) rmSync(statusFile, { force: true });
    writeFileSync(packetFile, packetJson);
  } catch (error) {
    return spawnFailed(`cannot prepare ${spec.logDir}: ${errorMessage(error)}`);
  }

  const launched = await (spec.launcher ?? directLauncher).launch({
    file: '/bin/sh',
    args: ['-c', WRAPPER, 'overseer-worker', spec.command, statusFile],
    cwd: spec.cwd,
    env: workerEnvironment(spec, { packetFile, packetJson, objective: spec.objective }),
    logFile,
  });
  if (!launched.ok) return spawnFailed(launched.error);
  const { pid } = launched;
  // The fork server reads it before it can reap the process; read here, a short task may be gone.
  const startTime = launched.processStartTime !== undefined ? launched.processStartTime : processStartTime(pid);
  const graceMs = spec.graceMs ?? DEFAULT_KILL_GRACE_MS;
  const identity = { pid, processStartTime: startTime, logFile, statusFile };
  // A launcher that died cannot report the exit; the worker's own files still can.
  const exited = launched.exited.then(async (exit) => {
    if (exit === 'lost') return reattachShellWorker(identity, { graceMs });
    await stopProcessGroup(identity, { graceMs });
    return exit;
  });
  return {
    ok: true,
    pid,
    processStartTime: startTime,
    logFile,
    statusFile,
    exited,
    unref: () => launched.unref(),
  };
}

/** How the worker's environment differs from the engine's: the packet's variables, then Overseer's own. */
function workerEnvironment(spec: ShellWorkerSpec, packet: Parameters<typeof taskPacketVariables>[0]): EnvChanges {
  const changes: Record<string, string | undefined> = { ...spec.env };
  // Set below only when they fit: never what the engine inherited, nor the packet's, under these names.
  for (const name of SIZED_PACKET_VARIABLES) changes[name] = undefined;
  return { ...changes, OVERSEER_RUN_ID: spec.runId, OVERSEER_WORKER_ID: spec.workerId, OVERSEER_ATTEMPT: String(spec.attempt), ...taskPacketVariables(packet) };
}

function spawnFailed(error: string): ShellWorkerSpawnFailed {
  return { ok: false, kind: 'spawn_failed', error };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
