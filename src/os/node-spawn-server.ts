/**
 * The spawn server written in Node, for a machine without Perl: a small child Node process that opens
 * the log file, spawns detached, and reports the pid and, later, the exit. A request carries only how
 * the process's environment differs from the server's (which it inherited from the engine when the
 * launcher was made): the whole environment, serialised and parsed on every spawn, was most of the
 * cost of a request.
 */
import { splitEnvChanges, type ProcessExit } from './process-launcher.js';
import type { ServerReply, SpawnServer } from './spawn-server.js';

const PROGRAM = `
const { spawn } = require('node:child_process');
const { openSync, closeSync, readFileSync } = require('node:fs');
const startTime = (pid) => { try { const s = readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[19] ?? null; } catch { return null; } };
const out = (m) => process.stdout.write((typeof m === 'string' ? m : JSON.stringify(m)) + '\\n');
const base = { ...process.env };
out('ready');
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line);
  const env = { ...base, ...req.env };
  for (const name of req.unset) delete env[name];
  let fd;
  try { fd = openSync(req.logFile, 'a'); } catch (e) { return out({ id: req.id, error: 'cannot open log file ' + req.logFile + ': ' + e.message }); }
  let child;
  try { child = spawn(req.file, req.args, { cwd: req.cwd, env, detached: true, stdio: ['ignore', fd, fd] }); }
  catch (e) { return out({ id: req.id, error: e.message }); }
  finally { closeSync(fd); }
  child.on('error', (e) => out({ id: req.id, error: e.message }));
  if (child.pid !== undefined) out({ id: req.id, pid: child.pid, processStartTime: startTime(child.pid) });
  child.on('exit', (code, signal) => out({ id: req.id, exit: { code, signal } }));
  child.unref();
}).on('close', () => process.exit(0));
`;

interface JsonReply {
  id: number;
  pid?: number;
  processStartTime?: string | null;
  error?: string;
  exit?: ProcessExit;
}

export function nodeSpawnServer(): SpawnServer {
  return {
    name: 'node',
    command: process.execPath,
    args: ['-e', PROGRAM],
    encode(id, request) {
      const { env, ...rest } = request;
      const { set, unset } = splitEnvChanges(env);
      return `${JSON.stringify({ id, ...rest, env: Object.fromEntries(set), unset })}\n`;
    },
    decode(line): ServerReply {
      const reply = JSON.parse(line) as JsonReply;
      if (reply.error !== undefined) return { id: reply.id, kind: 'failed', error: reply.error };
      if (reply.pid !== undefined) return { id: reply.id, kind: 'started', pid: reply.pid, processStartTime: reply.processStartTime ?? null };
      return { id: reply.id, kind: 'exited', exit: reply.exit ?? { code: null, signal: null } };
    },
  };
}
