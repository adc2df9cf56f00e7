/** Starts the viewer's HTTP server on a loopback address, and stops it with its live streams. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { viewerFiles } from './package-files.js';
import { allowedHosts } from './request-guard.js';
import { StaticFiles } from './static-files.js';
import { viewerApp } from './viewer-app.js';
import type { ViewerStore } from './viewer-store.js';

export interface ViewerOptions {
  store: ViewerStore;
  host: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
  decidedBy: string;
  onWarning: (message: string) => void;
}

export interface Viewer {
  /** `http://127.0.0.1:4680/` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const streams = new Set<() => void>();
  const track = (stop: () => void): (() => void) => {
    streams.add(stop);
    return () => streams.delete(stop);
  };
  // The app needs the bound port (for the Host check), known only once listening.
  const ready: { app?: Hono } = {};
  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve(
      {
        fetch: (request, env) => (ready.app === undefined ? new Response('starting', { status: 503 }) : ready.app.fetch(request, env)),
        hostname: options.host,
        port: options.port,
      },
      () => {
        started.off('error', reject);
        resolve(started as Server);
      },
    );
    started.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  ready.app = viewerApp({
    store: options.store,
    files: new StaticFiles(viewerFiles()),
    token: options.token,
    hosts: allowedHosts(options.host, port),
    decidedBy: options.decidedBy,
    onWarning: options.onWarning,
    track,
  });
  server.on('error', (error) => options.onWarning(`viewer server: ${String(error)}`));

  return {
    url: `http://${options.host}:${String(port)}/`,
    port,
    async close() {
      for (const stop of streams) stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
