#!/usr/bin/env node
// `npm start`: builds the renderer, then opens the Electron app where Electron's binary exists;
// otherwise (or with --browser) starts the browser host and prints
// "DP Workbench: http://127.0.0.1:PORT/?token=…". Options: --browser, --port N (else $PORT, else a
// free port), --workspace DIR (the governance workspace; else $DPW_WORKSPACE, else
// ~/dp-workbench/workspace), --no-build (reuse .cache/renderer when it is there).
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
for (const a of args) {
  if (a.startsWith('--') && !['--browser', '--port', '--workspace', '--no-build', '--help'].includes(a)) {
    console.error(`npm start: unknown option ${a} (known: --browser, --port N, --workspace DIR, --no-build)`);
    process.exit(2);
  }
}
if (flag('--help')) {
  console.log('usage: npm start [-- --browser] [--port N] [--workspace DIR] [--no-build]');
  process.exit(0);
}

const rendererDir = join(root, '.cache', 'renderer');
if (!flag('--no-build') || !existsSync(join(rendererDir, 'index.html'))) {
  const t0 = Date.now();
  process.stdout.write('Building the renderer… ');
  const { build } = await import('vite');
  await build({ configFile: join(root, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
  console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (!flag('--browser')) {
  const { electronBinary, bundleElectron } = await import('../electron/bundle.mjs');
  const bin = electronBinary(root);
  if (bin.path) {
    await bundleElectron(root);
    const child = spawn(bin.path, [join(root, '.cache', 'electron', 'main.cjs')], { stdio: 'inherit', cwd: root });
    child.on('exit', (code) => process.exit(code ?? 0));
    // Keep running until Electron exits.
    await new Promise(() => {});
  }
  console.log(`Electron is not available here: ${bin.reason}. Starting the browser host instead.`);
}

const { register } = await import('tsx/esm/api');
register();
const portRaw = option('--port');
const port = portRaw === undefined ? undefined : Number(portRaw);
if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
  console.error(`npm start: --port ${JSON.stringify(portRaw)} must be an integer in 0..65535`);
  process.exit(2);
}
const { runBrowserHost } = await import('../shared/node/host/main.ts');
let host;
try {
  const workspaceDir = option('--workspace');
  if (workspaceDir !== undefined) process.env.DPW_WORKSPACE = workspaceDir;
  host = await runBrowserHost({ root, ...(port !== undefined ? { port } : {}), ...(workspaceDir !== undefined ? { workspaceDir } : {}) });
} catch (e) {
  console.error(`DP Workbench could not start: ${e.message}`);
  process.exit(1);
}
console.log(`DP Workbench: ${host.url}`);
console.log(`Workspace (versions, budget policy, audit trail, exports): ${host.workspaceDir}`);
console.log('Open that link in a browser (it carries this session\'s token). Ctrl+C stops the host.');
const stop = async () => {
  await host.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
