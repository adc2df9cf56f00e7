import type { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { EVENTS_CHANNEL, type StoreDatabase } from '../schema.js';
import type { StoreBackend } from '../store-backend.js';

/**
 * A backend over a PGlite open in this process. PGlite runs one statement at a time, so the safe
 * global read is simply correct here; `db.listen` hears every commit, including those made by
 * clients of the socket server.
 */
export function createPgliteBackend(pglite: PGlite): StoreBackend {
  const db = new Kysely<StoreDatabase>({ dialect: new PGliteDialect(pglite) });
  return {
    name: 'pglite',
    db,
    pollMs: 250,
    async listen(wake) {
      const unlisten = await pglite.listen(EVENTS_CHANNEL, wake);
      return async () => {
        if (!pglite.closed) await unlisten();
      };
    },
    // Destroying the Kysely driver closes the PGlite instance too.
    close: () => db.destroy(),
  };
}
