/**
 * What an agent lane does to its repository, each step safe to repeat after a crash: create its
 * worktree and branch from the target's head, commit what the agent left, rebase a stale branch,
 * put the branch into the target (a merge commit or one squashed commit, made with plumbing and
 * fast-forwarded, so the user's checkout only ever moves to a clean new commit), remove the worktree.
 * A lane's commits carry trailers naming its run and packet: they are how a repeated merge knows it
 * was already done.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { git, gitOutput } from '../os/git-command.js';
import type { LanePlace } from './lane-paths.js';

export interface LaneIds {
  repo: string;
  runId: string;
  packetId: string;
  target: string;
  place: LanePlace;
}

function trailers(lane: Pick<LaneIds, 'runId' | 'packetId'>): string {
  return `Overseer-Run: ${lane.runId}\nOverseer-Packet: ${lane.packetId}`;
}

/** Commits need an author; a machine without one configured gets Overseer's. */
async function identity(cwd: string): Promise<Record<string, string>> {
  const [email, name] = await Promise.all([git(cwd, ['config', 'user.email']), git(cwd, ['config', 'user.name'])]);
  const env: Record<string, string> = {};
  if (!email.ok || email.stdout === '') Object.assign(env, { GIT_AUTHOR_EMAIL: 'overseer@localhost', GIT_COMMITTER_EMAIL: 'overseer@localhost' });
  if (!name.ok || name.stdout === '') Object.assign(env, { GIT_AUTHOR_NAME: 'Overseer', GIT_COMMITTER_NAME: 'Overseer' });
  return env;
}

/** `.overseer/` must never show in the repository's status: it is listed in `.git/info/exclude`. */
async function excludeOverseer(repo: string): Promise<void> {
  const common = await gitOutput(repo, ['rev-parse', '--git-common-dir']);
  const exclude = join(isAbsolute(common) ? common : join(repo, common), 'info', 'exclude');
  const text = existsSync(exclude) ? await readFile(exclude, 'utf8') : '';
  if (text.split('\n').includes('/.overseer/')) return;
  await mkdir(dirname(exclude), { recursive: true });
  await appendFile(exclude, `${text === '' || text.endsWith('\n') ? '' : '\n'}/.overseer/\n`);
}

export const headOf = (repo: string, ref: string): Promise<string> => gitOutput(repo, ['rev-parse', '--verify', `${ref}^{commit}`]);

/** The worktree on its branch, made now from the target's head unless an earlier engine made it; its base. */
export async function ensureWorktree(lane: LaneIds): Promise<string> {
  await excludeOverseer(lane.repo);
  const { worktree, branch } = lane.place;
  if (!existsSync(join(worktree, '.git'))) {
    await git(lane.repo, ['worktree', 'prune']);
    const branchExists = (await git(lane.repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])).ok;
    if (!branchExists) {
      const base = await headOf(lane.repo, `refs/heads/${lane.target}`);
      await gitOutput(lane.repo, ['worktree', 'add', '--quiet', '-b', branch, worktree, base]);
      return base;
    }
    await gitOutput(lane.repo, ['worktree', 'add', '--quiet', worktree, branch]);
  }
  // Made by an earlier engine (the worktree, or only its branch): the base is where it left the target.
  return gitOutput(lane.repo, ['merge-base', `refs/heads/${lane.target}`, `refs/heads/${branch}`]);
}

/** Commits whatever is left uncommitted in the worktree; null when nothing was. */
export async function commitLeftovers(lane: LaneIds, message: string): Promise<{ commit: string | null; head: string }> {
  const cwd = lane.place.worktree;
  const status = await gitOutput(cwd, ['status', '--porcelain']);
  if (status === '') return { commit: null, head: await headOf(cwd, 'HEAD') };
  await gitOutput(cwd, ['add', '-A']);
  await gitOutput(cwd, ['commit', '--quiet', '--no-verify', '-m', message, '-m', trailers(lane)], await identity(cwd));
  const head = await headOf(cwd, 'HEAD');
  return { commit: head, head };
}

/** The target's head already holds a commit of this lane (a merge repeated after a crash). */
export async function alreadyMerged(lane: LaneIds, base: string): Promise<string | null> {
  const log = await gitOutput(lane.repo, ['log', '--format=%H%x00%B%x01', `refs/heads/${lane.target}`, `^${base}`]);
  const wanted = trailers(lane).split('\n');
  for (const entry of log.split('\x01')) {
    const [hash, body] = entry.trim().split('\x00');
    if (hash !== undefined && body !== undefined && wanted.every((line) => body.includes(line)) && /^Merge lane |squash/i.test(body)) return hash;
  }
  return null;
}

export type RebaseOutcome = { ok: true; rebased: boolean; head: string } | { ok: false; detail: string; files: string[] };

async function rebaseInProgress(worktree: string): Promise<boolean> {
  const dir = await gitOutput(worktree, ['rev-parse', '--git-dir']);
  const gitDir = isAbsolute(dir) ? dir : join(worktree, dir);
  return existsSync(join(gitDir, 'rebase-merge')) || existsSync(join(gitDir, 'rebase-apply'));
}

async function conflictedFiles(worktree: string): Promise<string[]> {
  const out = await git(worktree, ['diff', '--name-only', '--diff-filter=U']);
  return out.stdout === '' ? [] : out.stdout.split('\n');
}

/**
 * The lane's branch on top of the target's head. A conflict leaves the rebase stopped in the worktree,
 * for a person to resolve (`git rebase --continue`) before they retry the lane.
 */
export async function rebaseOntoTarget(lane: LaneIds, targetHead: string): Promise<RebaseOutcome> {
  const cwd = lane.place.worktree;
  if (await rebaseInProgress(cwd)) {
    return { ok: false, detail: `a rebase onto ${lane.target} is still stopped in ${cwd}: resolve it and run git rebase --continue, then retry`, files: await conflictedFiles(cwd) };
  }
  if ((await git(cwd, ['merge-base', '--is-ancestor', targetHead, 'HEAD'])).ok) return { ok: true, rebased: false, head: await headOf(cwd, 'HEAD') };
  const rebased = await git(cwd, ['rebase', '--quiet', targetHead], await identity(cwd));
  if (rebased.ok) return { ok: true, rebased: true, head: await headOf(cwd, 'HEAD') };
  const files = await conflictedFiles(cwd);
  if (!(await rebaseInProgress(cwd))) throw new Error(`git rebase in ${cwd} failed: ${rebased.stderr}`);
  return { ok: false, detail: `the lane's branch conflicts with ${lane.target} in ${files.join(', ') || 'its changes'}: resolve the rebase in ${cwd}, then retry`, files };
}

/** The checkout that has the target branch checked out, if any (the user's main one, usually). */
export async function targetCheckout(lane: LaneIds): Promise<string | null> {
  const list = await gitOutput(lane.repo, ['worktree', 'list', '--porcelain']);
  let path: string | null = null;
  for (const line of list.split('\n')) {
    if (line.startsWith('worktree ')) path = line.slice('worktree '.length);
    else if (line === `branch refs/heads/${lane.target}`) return path;
  }
  return null;
}

/**
 * Why the checkout cannot take the merge now (changes of its own to tracked files), or null when it
 * is clean. Untracked files (the plan file itself, often) stay out of it: the fast-forward refuses on
 * its own to overwrite one, and that is reported as a wait too.
 */
export async function dirtyReason(checkout: string): Promise<string | null> {
  const status = await gitOutput(checkout, ['status', '--porcelain', '--untracked-files=no']);
  if (status === '') return null;
  const files = status.split('\n').map((line) => line.slice(3));
  return `${checkout} has changes of its own (${files.slice(0, 5).join(', ')}${files.length > 5 ? ', …' : ''}): commit or stash them and the merge goes on`;
}

/**
 * The commit the target moves to: the lane's tree (the branch was rebased onto `targetHead`, so its
 * tree is the merged result) with the target's head as parent, and the lane's head too for `merge`.
 */
export async function laneCommit(lane: LaneIds, mode: 'merge' | 'squash', targetHead: string, laneHead: string, objective: string): Promise<string> {
  const tree = await gitOutput(lane.repo, ['rev-parse', `${laneHead}^{tree}`]);
  const title = objective.split('\n')[0]?.slice(0, 72) ?? lane.packetId;
  const message = mode === 'merge' ? `Merge lane ${lane.packetId}: ${title}` : `${title} (squash of lane ${lane.packetId})`;
  const parents = mode === 'merge' ? ['-p', targetHead, '-p', laneHead] : ['-p', targetHead];
  return gitOutput(lane.repo, ['commit-tree', tree, ...parents, '-m', message, '-m', trailers(lane)], await identity(lane.repo));
}

/**
 * Moves the target from `from` to `to`: a fast-forward of its checkout, or of the ref when none has
 * it. `moved`: the target moved meanwhile (rebase again); `blocked`: the checkout refused (git's words).
 */
export async function advanceTarget(lane: LaneIds, checkout: string | null, from: string, to: string): Promise<'done' | 'moved' | { blocked: string }> {
  if (checkout === null) return (await git(lane.repo, ['update-ref', `refs/heads/${lane.target}`, to, from])).ok ? 'done' : 'moved';
  if ((await headOf(checkout, 'HEAD')) !== from) return 'moved';
  const merged = await git(checkout, ['merge', '--ff-only', '--quiet', to]);
  if (merged.ok) return 'done';
  return (await headOf(checkout, 'HEAD')) !== from ? 'moved' : { blocked: `${checkout} cannot take the merge: ${merged.stderr.split('\n').slice(0, 3).join(' ')}` };
}

/** Removes the worktree (gone already is fine); deletes the branch unless it is to be kept. */
export async function removeWorktree(lane: LaneIds, keepBranch: boolean): Promise<void> {
  if (existsSync(lane.place.worktree)) await gitOutput(lane.repo, ['worktree', 'remove', '--force', lane.place.worktree]);
  await git(lane.repo, ['worktree', 'prune']);
  if (!keepBranch) await git(lane.repo, ['branch', '-D', '--quiet', lane.place.branch]);
}
