#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm ci` (prepare) or `npm run build`.
import { main } from '../dist/cli/main.js';

// Once a command has returned, nothing of it may keep the process alive: a failed start must
// exit at once (within 2 s), even if a pool or thread it opened is slow to let go. The timer
// is unref'd, so a process with nothing left open exits before it fires.
const exitSoon = (code) => {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
};

main(process.argv.slice(2)).then(
  (code) => exitSoon(typeof code === 'number' ? code : 0),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    exitSoon(1);
  },
);
