#!/usr/bin/env node
// Launcher for the seg CLI: registers the TypeScript loader, then runs bin/seg.ts.
// npm puts the project's pinned Node 22 first on PATH for `npx seg` and npm scripts.
import { register } from 'tsx/esm/api';

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(
    `seg needs Node.js 22 or newer (this is ${process.version}); run it as \`npx seg\` inside the project.`,
  );
  process.exit(1);
}
register();
await import('./seg.ts');
