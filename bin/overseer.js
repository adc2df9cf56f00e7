#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// An engine's live heap stays small (~25 MB for a 2,000-task run) but by default V8 lets the young
// generation grow to 32 MB and the old one to ~4x what the last full GC kept, so a long run's RSS was
// mostly garbage. These two heuristics are read at each GC, so setting them here, before any work,
// takes effect: the young generation keeps its initial size, the old one grows by half. Measured on
// 2,000 x `true` (conc. 16): peak RSS 165 -> 116 MiB, the engine's CPU time unchanged within noise.
setFlagsFromString('--semi-space-growth-factor=1');
setFlagsFromString('--heap-growing-percent=50');
// V8 hands a function to its optimising compiler after ~66 KB of bytecode has run in it; the compile
// runs on other threads, which on a small machine are the cores the workers need. Most commands and
// short runs end before that work pays for itself, so a function must run 8x as long first: what a
// long run or `serve` keeps calling is still optimised. Measured on 500 x `true` (conc. 16, 2 cores):
// 1.21 -> 1.08 s, CPU of the whole machine 1.84 -> 1.61 s; 5,000 x `true` unchanged at 8.5 s (with no
// optimising compiler at all, 500 took the same 1.08 s but 5,000 took 9.1 s).
setFlagsFromString('--interrupt-budget=540672');

// pg decides at load whether it runs in a Cloudflare Worker: without a global `navigator` (Node 20
// has none; Node 21+ has this one) it builds a fetch Response to find out, which loads undici:
// ~30 ms of every command's start-up (`overseer status` 177 -> 150 ms here).
if (globalThis.navigator === undefined) {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` }, configurable: true, writable: true });
}

// The bundle (esbuild, one chunk per command) starts about twice as fast as the tsc output's many modules.
const { main } = await import('../dist/bundle/main.js');

process.exitCode = await main(process.argv.slice(2));
