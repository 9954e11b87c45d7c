// `npm start -- --browser` (or npm start where Electron's binary is missing): starts the browser
// host on 127.0.0.1 and prints the line to open, "DP Workbench: http://127.0.0.1:PORT/?token=…".
// PORT comes from --port, else the PORT environment variable, else a free port.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { homedir, tmpdir } from 'node:os';
import { makeDispatcher, makeWorkbenchServices } from '../app/services';
import { startBrowserHost } from './browser-host';

export interface RunBrowserHostOptions {
  readonly root: string;
  readonly port?: number;
  readonly rendererDir?: string;
  /** The governance workspace; default $DPW_WORKSPACE, else ~/dp-workbench/workspace. */
  readonly workspaceDir?: string;
}

/** Starts services and server; resolves to a stop function. */
export async function runBrowserHost(opts: RunBrowserHostOptions): Promise<{ url: string; workspaceDir: string; stop: () => Promise<void> }> {
  const root = resolve(opts.root);
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const workspaceDir = resolve(opts.workspaceDir ?? process.env['DPW_WORKSPACE'] ?? join(homedir(), 'dp-workbench', 'workspace'));
  const services = makeWorkbenchServices({
    host: 'browser',
    version,
    samplesDir: join(root, 'sample-data'),
    uploadsDir: join(tmpdir(), `dpw-uploads-${process.pid}`),
    workspaceDir,
  });
  const envPort = process.env['PORT'];
  const port = opts.port ?? (envPort !== undefined && envPort !== '' ? Number(envPort) : 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT (${JSON.stringify(envPort)}) must be an integer in 0..65535`);
  const host = await startBrowserHost({ dispatch: makeDispatcher(services), rendererDir: opts.rendererDir ?? join(root, '.cache', 'renderer'), port });
  return {
    url: host.url,
    workspaceDir,
    stop: async () => {
      await host.close();
      await services.close();
    },
  };
}
