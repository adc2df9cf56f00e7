/**
 * Where an agent lane lives: a git worktree under `.overseer/worktrees/RUN/PACKET` of the repository,
 * on branch `overseer/RUN/PACKET`. Pure, so the fold, the gates and the kind all name the same place.
 */
import { join } from 'node:path';

export interface LanePlace {
  worktree: string;
  branch: string;
}

export function lanePlace(repo: string, runId: string, packetId: string): LanePlace {
  // Packet ids are letters, digits, ".", "_" and "-" (task-packet.ts); a ref may not hold ".." or end in ".lock".
  const safe = packetId.replace(/\.\.+/g, '_').replace(/\.lock$/, '_lock');
  return { worktree: join(repo, '.overseer', 'worktrees', runId, packetId), branch: `overseer/${runId}/${safe}` };
}
