/**
 * The machine definitions' version, recorded on every run. Bump it whenever a change to either
 * machine could make an old log fold differently; resume and replay refuse a run of another version.
 */
export const MACHINE_VERSION = 'workflow@1+worker@1';
