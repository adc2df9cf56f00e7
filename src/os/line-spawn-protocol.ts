/**
 * The protocol the Perl and the native spawn servers speak. A request is its byte length on a line,
 * then its fields joined by NUL bytes (no field of a process's command line or environment can hold
 * one): id, directory, log file, program, the count and then the arguments, the count and then the
 * name and value of each variable to set, the count and then the names to remove. Answers are lines:
 * `s ID PID START-TIME`, `e ID ERROR`, `x ID CODE SIGNAL` (`-` for none).
 */
import { splitEnvChanges, type LaunchRequest } from './process-launcher.js';
import type { ServerReply, SpawnServer } from './spawn-server.js';

function fields(id: number, request: LaunchRequest): string[] {
  const { set, unset } = splitEnvChanges(request.env);
  return [String(id), request.cwd, request.logFile, request.file, String(request.args.length), ...request.args, String(set.length), ...set.flat(), String(unset.length), ...unset];
}

/** A server of this protocol run as `command args…`. */
export function lineSpawnServer(name: string, command: string, args: string[]): SpawnServer {
  return {
    name,
    command,
    args,
    encode(id, request) {
      const all = fields(id, request);
      if (all.some((field) => field.includes('\0'))) return { error: `spawn ${request.file}: a NUL byte in its arguments, environment or paths cannot be passed to a process` };
      const payload = all.join('\0');
      return `${String(Buffer.byteLength(payload))}\n${payload}`;
    },
    decode(line): ServerReply {
      const [kind = '', id = '', ...rest] = line.split(' ');
      const none = (text: string | undefined) => (text === undefined || text === '-' ? null : text);
      if (kind === 's') return { id: Number(id), kind: 'started', pid: Number(rest[0]), processStartTime: none(rest[1]) };
      if (kind === 'e') return { id: Number(id), kind: 'failed', error: rest.join(' ') };
      const code = none(rest[0]);
      return { id: Number(id), kind: 'exited', exit: { code: code === null ? null : Number(code), signal: none(rest[1]) } };
    },
  };
}
