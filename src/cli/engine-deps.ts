/** What an engine started from the command line runs with (the library's engines run with the same). */
export { systemEngineDeps as engineDeps } from '../engine/system-deps.js';
