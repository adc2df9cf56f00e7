/**
 * Runs as MCP resources: `overseer://runs/RUN` reads as the run's status (`status RUN --json`). The
 * list changes when a run starts here (notifications/resources/list_changed); a client that
 * subscribes to a run is told each time the run's log grows (notifications/resources/updated),
 * through the store's subscription, so it hears of changes made by any process.
 */
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { listRuns, runStatus } from '../inspect/run-reads.js';
import type { EventStore, Subscription } from '../store/event-store.js';
import { RunNotFoundError } from '../fold/rebuild-run.js';

const PREFIX = 'overseer://runs/';

function runUri(runId: string): string {
  return `${PREFIX}${encodeURIComponent(runId)}`;
}

function runIdOf(uri: string): string | null {
  return uri.startsWith(PREFIX) ? decodeURIComponent(uri.slice(PREFIX.length)) : null;
}

export interface RunResources {
  /** Closes every subscription a client made. */
  close(): Promise<void>;
}

export function registerRunResources(server: McpServer, store: EventStore): RunResources {
  const template = new ResourceTemplate(`${PREFIX}{runId}`, {
    list: async () => ({
      resources: (await listRuns(store)).map((run) => ({
        uri: runUri(run.runId),
        name: `run ${run.runId}`,
        description: `${run.status}: ${run.objective}`,
        mimeType: 'application/json',
      })),
    }),
  });
  server.registerResource(
    'run',
    template,
    { title: 'An Overseer run', description: 'A run with its workers, as `overseer status RUN --json` prints it', mimeType: 'application/json' },
    async (uri, variables) => {
      const runId = String(variables['runId']);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await runStatus(store, decodeURIComponent(runId))) }] };
    },
  );

  const watched = new Map<string, Subscription>();
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const uri = request.params.uri;
    const runId = runIdOf(uri);
    if (runId === null || watched.has(uri)) return {};
    // Where the log ends now, read without payloads; an unknown run (no events) is an error, not a subscription that never fires.
    const last = (await store.readStream(runId, { payloadTypes: [] })).at(-1);
    if (last === undefined) throw new RunNotFoundError(runId);
    const from = { txId: last.txId, position: last.position };
    const notify = () => server.server.sendResourceUpdated({ uri });
    // A lost store connection ends the updates, not the server: the client still has the tools.
    const onError = (error: unknown) => process.stderr.write(`overseer mcp: updates of ${uri} stopped: ${error instanceof Error ? error.message : String(error)}\n`);
    watched.set(uri, store.subscribe(from, notify, { streamId: runId, onError }));
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    const subscription = watched.get(request.params.uri);
    watched.delete(request.params.uri);
    await subscription?.close();
    return {};
  });
  return {
    async close() {
      const all = [...watched.values()];
      watched.clear();
      await Promise.all(all.map((s) => s.close()));
    },
  };
}
