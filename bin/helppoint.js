#!/usr/bin/env node
// Runs the compiled CLI (npm run build). The TypeScript sources run with tsx in development.
import { existsSync } from 'node:fs';
const compiled = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('helppoint is not built yet: run "npm run build" (or "npm run setup") first\n');
  process.exit(2);
}
await import(compiled.href);
