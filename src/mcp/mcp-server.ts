/**
 * `overseer mcp`: Overseer as an MCP server over stdio (the official SDK's McpServer), with the run
 * tools (run-tools.ts) and runs as resources (run-resources.ts). It serves one client until that
 * client closes our stdin (or a signal comes); runs it started go on in their own engines.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { overseerBin } from '../os/overseer-bin.js';
import type { EventStore } from '../store/event-store.js';
import { registerRunResources } from './run-resources.js';
import { registerRunTools } from './run-tools.js';

export interface McpOptions {
  store: EventStore;
  /** The store target as resolved (a URL or an absolute folder), for the detached engines. */
  db: string;
  cwd: string;
}

function ourVersion(): string {
  const file = join(dirname(dirname(overseerBin())), 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

const INSTRUCTIONS =
  'Overseer runs plans of task packets (shell commands) through trust gates and quality gates, recording every step. ' +
  'start_run returns a runId at once; poll run_status (or subscribe to overseer://runs/RUN) until the run is waiting, completed or failed. ' +
  'A waiting run has workers at a trust gate: approve_worker (or deny) them. run_events reads the log.';

/** Serves until the client disconnects; resolves then. */
export async function serveMcp(options: McpOptions): Promise<void> {
  const server = new McpServer({ name: 'overseer', version: ourVersion() }, { instructions: INSTRUCTIONS });
  const resources = registerRunResources(server, options.store);
  registerRunTools(server, {
    store: options.store,
    db: options.db,
    cwd: options.cwd,
    onRunStarted: () => server.sendResourceListChanged(),
  });
  const transport = new StdioServerTransport();
  // The SDK's stdio transport does not notice its input ending: that is our client going away.
  const ended = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    transport.onclose = resolve;
  });
  await server.connect(transport);
  await ended;
  await resources.close();
  await server.close();
}
