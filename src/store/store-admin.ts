/**
 * What `overseer store` needs of a store beyond opening it: who is connected and how big it is, and
 * for the embedded server, its status, stopping it and its idle keeper. The CLI reaches the store's
 * internals (src/store/embedded, src/store/pg) only through this module and open-store.ts.
 */
export { embeddedStoreStatus, type EmbeddedStoreStatus } from './embedded/store-status.js';
export { stopStoreServer } from './embedded/embedded-server.js';
export { KEEPER_APPLICATION_NAME, keepStore } from './embedded/idle-keeper.js';
export { describeConnectError, redactUrl } from './pg/open-pg-store.js';
export { serverActivity, type ServerClient } from './server-activity.js';
