/** `overseer run`: validate everything first (nothing is written for bad input), then start and follow a run. */
import { dirname, resolve } from 'node:path';
import { COMMANDS } from './command-table.js';
import { loadPolicy } from '../gates/policy-file.js';
import { DURATION_HINT, parseDuration } from '../os/duration.js';
import { loadPlanFile } from '../planning/plan-file.js';
import { plannerLaneSettings, resolveLaneSettings } from '../planning/agent-repository.js';
import { formatProblems, type Plan } from '../planning/plan.js';
import { planFromObjective } from '../planning/single-packet-plan.js';
import { startRun, submitRun } from '../engine/start-run.js';
import { systemEngineDeps } from '../engine/system-deps.js';
import { openCliStore } from './cli-store.js';
import { flagValue, parseFlags, POSITIVE_WHOLE_NUMBER, type FlagValue } from './parse-flags.js';
import { followRun } from './follow-run.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.run.flags;

interface RunSource {
  /** Null when a planner service makes the packets. */
  plan: Plan | null;
  objective: string;
}

/** Where the packets come from: a plan file, a planner service, or one packet for a bare objective. */
async function loadPackets(values: { plan?: string | undefined; worker?: string | undefined; planner?: string | undefined }, objectiveWords: string[]): Promise<RunSource> {
  if (values.plan !== undefined) {
    const loaded = await loadPlanFile(resolve(values.plan));
    if (!loaded.ok) throw new UsageError(formatProblems(loaded.problems, values.plan));
    return { plan: loaded.plan, objective: objectiveWords.join(' ') || loaded.plan.objective || `plan ${values.plan}` };
  }
  const objective = objectiveWords.join(' ').trim();
  if (objective === '') throw new UsageError('overseer run: nothing to run: give an OBJECTIVE with --worker CMD or --planner CMD, or --plan FILE');
  if (values.planner !== undefined) return { plan: null, objective };
  if (values.worker === undefined) throw new UsageError('overseer run: an objective without a plan needs --worker CMD (the command that works on it) or --planner CMD');
  const made = planFromObjective(objective, values.worker);
  if (!made.ok) throw new UsageError(formatProblems(made.problems, 'command line'));
  return { plan: made.plan, objective };
}

/** `--policy FILE` wins over a plan's `policy:` (a path there is relative to the plan file). */
async function choosePolicy(flag: string | undefined, fromPlan: string | object | undefined, planFile: string | undefined) {
  const source = flag ?? fromPlan;
  if (source === undefined) return null;
  const baseDir = flag !== undefined || planFile === undefined ? process.cwd() : dirname(resolve(planFile));
  const loaded = await loadPolicy(source, baseDir);
  if (!loaded.ok) throw new UsageError(loaded.message);
  return { name: loaded.name, policy: loaded.policy };
}

const DURATION: FlagValue<number> = { expected: DURATION_HINT, read: parseDuration };

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('run', args, flags);
  const { plan, objective } = await loadPackets(values, positionals);
  const concurrency = flagValue('--concurrency', values.concurrency, POSITIVE_WHOLE_NUMBER) ?? plan?.concurrency ?? 4;
  const callTimeoutMs = flagValue('--service-timeout', values['service-timeout'], DURATION) ?? 30_000;
  const runsPackets = values.worker !== undefined || values['worker-service'] !== undefined;
  const homeless = (plan?.packets ?? []).filter((p) => p.command === undefined && p.agent === undefined && !runsPackets).map((p) => p.id);
  if (homeless.length > 0) {
    throw new UsageError(`packets without a command and no --worker CMD or --worker-service CMD to run them: ${homeless.join(', ')}`);
  }

  const lanes = plan === null ? { ok: true as const, lanes: await plannerLaneSettings(process.cwd()) } : await resolveLaneSettings(plan, process.cwd());
  if (!lanes.ok) throw new UsageError(formatProblems(lanes.problems, values.plan ?? plan?.source ?? 'plan'));
  const policy = await choosePolicy(values.policy, plan?.policy, values.plan);
  const store = await openCliStore(values.db, { create: true });
  const deps = systemEngineDeps(store);
  try {
    const options = {
      objective,
      cwd: process.cwd(),
      concurrency,
      packets: plan?.packets ?? null,
      autoApprove: values['auto-approve'] === true,
      workerCommand: values.worker ?? null,
      policy,
      services: {
        planner: values.planner ?? null,
        bootstrap: values.bootstrap ?? null,
        workerService: values['worker-service'] ?? null,
        callTimeoutMs,
      },
      bootstrap: plan?.bootstrap ?? [],
      lanes: lanes.lanes,
    };
    if (values.submit === true) {
      const runId = await submitRun(deps, options);
      process.stderr.write(`overseer: run ${runId} submitted: an overseer worker on this store will run it\n`);
      process.stdout.write(values.json === true ? `${JSON.stringify({ runId, status: 'running', submitted: true })}\n` : `${runId}\n`);
      return 0;
    }
    const engine = await startRun(deps, options);
    return await followRun(engine, { json: values.json === true, detach: values.detach === true });
  } finally {
    deps.driver.close?.();
    await store.close();
  }
}
