#!/usr/bin/env node
// The `dpw` command. The CLI is TypeScript; tsx (a dependency) loads it directly, so `npx dpw`
// works right after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../shared/node/cli/run.ts');
