import { describe, expect, it } from 'vitest';
import { requiredGates, requiredLevel } from '../../src/gates/quality-gates.js';
import { formatProblems, parsePlan } from '../../src/planning/plan.js';
import type { ResolvedTaskPacket } from '../../src/planning/task-packet.js';

/** Packets as a plan file gives them: gates parsed, defaults applied. */
function packetsOf(plan: object): ResolvedTaskPacket[] {
  const result = parsePlan(plan, 'plan.yaml');
  if (!result.ok) throw new Error(formatProblems(result.problems, 'plan.yaml'));
  return result.plan.packets;
}

function packetOf(packet: object): ResolvedTaskPacket {
  const [only] = packetsOf({ packets: [{ objective: 'check', ...packet }] });
  if (only === undefined) throw new Error('no packet');
  return only;
}

function problemsOf(plan: object): Record<string, string> {
  const result = parsePlan(plan, 'plan.yaml');
  if (result.ok) throw new Error('expected the plan to be rejected');
  return Object.fromEntries(result.problems.map((p) => [p.path, p.message]));
}

const names = (packet: ResolvedTaskPacket): string[] => requiredGates(packet).map((gate) => gate.name);

describe('the green contract', () => {
  it('runs every gate, lowest level first, keeping the order within a level', () => {
    const packet = packetOf({
      gates: [
        { name: 'e2e', command: 'npm run e2e', level: 'workspace' },
        { name: 'unit', command: 'npm test -- unit', level: 'targeted_tests' },
        { name: 'build', command: 'npm run build', level: 'package' },
        'npm run lint',
      ],
    });
    expect(requiredLevel(packet)).toBe('workspace');
    expect(requiredGates(packet)).toEqual([
      { name: 'unit', command: 'npm test -- unit', level: 'targeted_tests', timeoutMs: null },
      { name: 'targeted_tests-2', command: 'npm run lint', level: 'targeted_tests', timeoutMs: null },
      { name: 'build', command: 'npm run build', level: 'package', timeoutMs: null },
      { name: 'e2e', command: 'npm run e2e', level: 'workspace', timeoutMs: null },
    ]);
  });

  it('stops at the green_level: gates above it are not required', () => {
    const gates = [
      { command: 'merge-check', level: 'merge_ready' },
      { command: 'unit', level: 'targeted_tests' },
      { command: 'pkg', level: 'package' },
      { command: 'ws', level: 'workspace' },
    ];
    expect(names(packetOf({ gates, green_level: 'package' }))).toEqual(['targeted_tests-1', 'package-1']);
    expect(names(packetOf({ gates, green_level: 'targeted_tests' }))).toEqual(['targeted_tests-1']);
    expect(names(packetOf({ gates }))).toEqual(['targeted_tests-1', 'package-1', 'workspace-1', 'merge_ready-1']);
  });

  it('reads each gate time limit, and none where none is given', () => {
    const packet = packetOf({ gates: [{ command: 'a', timeout: '90s' }, { command: 'b', timeout: 0.3 }, { command: 'c' }] });
    expect(requiredGates(packet).map((gate) => gate.timeoutMs)).toEqual([90_000, 300, null]);
  });

  it('needs nothing from a packet without gates', () => {
    const packet = packetOf({});
    expect(requiredLevel(packet)).toBeNull();
    expect(requiredGates(packet)).toEqual([]);
  });

  it('takes gates from the plan defaults unless a packet has its own', () => {
    const [plain, own] = packetsOf({
      defaults: { gates: [{ name: 'lint', command: 'npm run lint' }], green_level: 'targeted_tests' },
      packets: [{ objective: 'a' }, { objective: 'b', gates: [{ command: 'make check', level: 'targeted_tests' }] }],
    });
    expect(plain && names(plain)).toEqual(['lint']);
    expect(own && names(own)).toEqual(['targeted_tests-1']);
  });

  it('gives generated names that collide with given ones a suffix, so log files stay apart', () => {
    const gates = [{ command: 'x', level: 'package' as const }, { name: 'package-1', command: 'y', level: 'package' as const }];
    expect(requiredGates({ gates })).toMatchObject([{ name: 'package-1-2', command: 'x' }, { name: 'package-1', command: 'y' }]);
  });

  it('rejects a plan whose green_level no gate reaches, or whose gates share a name', () => {
    expect(
      problemsOf({
        packets: [
          { objective: 'a', green_level: 'merge_ready', gates: [{ command: 'x', level: 'package' }, 'y'] },
          { objective: 'b', green_level: 'package' },
          { objective: 'c', gates: [{ name: 'lint', command: 'x' }, { name: 'lint', command: 'y' }] },
          { objective: 'd', green_level: 'shipped' },
        ],
      }),
    ).toEqual({
      'packets[0].green_level': 'no gate at level merge_ready (its gates are at targeted_tests, package)',
      'packets[1].green_level': 'no gate at level package (this packet has no gates)',
      'packets[2].gates[1].name': 'duplicate gate name "lint"',
      'packets[3].green_level': 'expected one of targeted_tests, package, workspace, merge_ready',
    });
  });
});
