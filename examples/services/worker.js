#!/usr/bin/env node
/**
 * A worker service for Overseer, written to the seed's protocol (one JSON object per line on stdin and
 * stdout, logs on stderr), with no dependencies:
 *
 *   spawn_worker {task_packet}                → {worker_id}   (the same one again for a packet id it has seen)
 *   check_trust {worker_id}                   → {requires_approval}   (false only for `trusted: true` packets)
 *   mark_trusted {worker_id, approval_source} → {worker_id, trusted: true}
 *   run_worker {worker_id}                    → {status: "done" | "failed", output | error}
 *
 * `run_worker` is Overseer's optional extension (docs/protocol.md): it refuses an untrusted worker,
 * and "runs" a packet by reporting what it would do; a packet with `simulate_failure: "why"` fails.
 * Runs answer after a short delay, so replies may come in a different order than the requests.
 *
 *   node examples/services/worker.js
 */
import { createInterface } from 'node:readline';

const workers = new Map();
/** packet id → worker id */
const byPacket = new Map();
let spawned = 0;

const log = (text) => process.stderr.write(`[worker] ${text}\n`);
const reply = (id, body) => process.stdout.write(`${JSON.stringify({ id, ...body })}\n`);
const fail = (code, message) => ({ error: { code, message } });

function workerFor(params) {
  const worker = workers.get(params?.worker_id);
  if (worker === undefined) throw Object.assign(new Error(`no worker ${JSON.stringify(params?.worker_id)}`), { code: -32602 });
  return worker;
}

const methods = {
  spawn_worker(params) {
    const packet = params?.task_packet;
    if (typeof packet?.objective !== 'string') throw Object.assign(new Error('spawn_worker needs a task_packet with an objective'), { code: -32602 });
    // Asked again for a packet it already has a worker for (a retry, or an engine resumed after a
    // crash), it answers with that worker rather than starting a second one.
    const known = typeof packet.id === 'string' ? byPacket.get(packet.id) : undefined;
    if (known !== undefined) {
      log(`${known} already spawned for ${packet.id}`);
      return { worker_id: known };
    }
    spawned += 1;
    const workerId = `worker_${spawned}`;
    workers.set(workerId, { packet, trusted: false, approvalSource: null });
    if (typeof packet.id === 'string') byPacket.set(packet.id, workerId);
    log(`${workerId} spawned for ${packet.id ?? '(no id)'}: ${packet.objective}`);
    return { worker_id: workerId };
  },
  check_trust(params) {
    const worker = workerFor(params);
    return { requires_approval: !(worker.packet.trusted === true || worker.trusted) };
  },
  mark_trusted(params) {
    const worker = workerFor(params);
    worker.trusted = true;
    worker.approvalSource = params.approval_source ?? null;
    log(`${params.worker_id} trusted by ${worker.approvalSource}`);
    return { worker_id: params.worker_id, trusted: true };
  },
  async run_worker(params) {
    const worker = workerFor(params);
    if (!worker.trusted) throw Object.assign(new Error(`${params.worker_id} is not trusted yet`), { code: -32001 });
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 30)));
    const { packet } = worker;
    if (typeof packet.simulate_failure === 'string') {
      log(`${params.worker_id} failed: ${packet.simulate_failure}`);
      return { status: 'failed', error: packet.simulate_failure };
    }
    const scope = packet.scope_path ?? packet.scope ?? 'workspace';
    const tests = Array.isArray(packet.acceptance_tests) ? packet.acceptance_tests : [];
    log(`${params.worker_id} done`);
    return {
      status: 'done',
      output: `${packet.objective} (scope ${scope}; acceptance tests: ${tests.length === 0 ? 'none' : tests.join(', ')})`,
    };
  },
};

async function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    reply(null, fail(-32700, `parse error: ${error.message}`));
    return;
  }
  const { id, method, params } = request;
  const run = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (run === undefined) {
    reply(id, fail(-32601, `Method not found: ${method}`));
    return;
  }
  try {
    reply(id, { result: await run(params) });
  } catch (error) {
    reply(id, fail(error.code ?? -32000, error.message));
  }
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', (line) => {
  if (line.trim() !== '') void handle(line);
});
