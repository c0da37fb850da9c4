#!/usr/bin/env node
// The `causeway` command: serve | config check | migrate. Build first (npm run build).
await import('../dist/main.js');
