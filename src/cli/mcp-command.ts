/** `overseer mcp [--db URL|DIR]`: serves the MCP protocol on stdin/stdout (docs/mcp.md); people's messages go to stderr. */
import { COMMANDS } from './command-table.js';
import { serveMcp } from '../mcp/mcp-server.js';
import { openStore } from '../store/open-store.js';
import { cliStoreTarget } from './cli-store.js';
import { parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.mcp.flags;

export async function mcpCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('mcp', args, flags);
  if (positionals.length > 0) throw new UsageError('usage: overseer mcp [--db URL|DIR]');
  const db = cliStoreTarget(values.db, { create: true });
  const store = await openStore(db);
  try {
    await serveMcp({ store, db, cwd: process.cwd() });
    return 0;
  } finally {
    await store.close();
  }
}
