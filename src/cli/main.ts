#!/usr/bin/env node
import { exitWhenDone } from './exit.ts'
import { runCli } from './run.ts'

/* The `partner-gateway` bin (bundled to dist/cli.js; `tsx src/cli/main.ts` from the repository). */
exitWhenDone(await runCli(process.argv.slice(2)))
