/**
 * The machine definitions' versions new runs record (see versions.ts): bump a machine's version in
 * RELEASED whenever a change could make an old log fold differently — the fingerprint test insists.
 */
import { RELEASED, versionText } from './versions.js';

export const MACHINE_VERSION = versionText(RELEASED.current);
