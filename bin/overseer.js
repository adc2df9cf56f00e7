#!/usr/bin/env node
// The bundle (esbuild, one chunk per command) starts about twice as fast as the tsc output's many modules.
import { main } from '../dist/bundle/main.js';

process.exitCode = await main(process.argv.slice(2));
