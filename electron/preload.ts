// The sandboxed preload: exposes the one WorkbenchBridge object as `window.workbench`. Each method
// invokes its own channel of the typed map and unwraps the Result; ipcRenderer itself and any
// generic invoke stay here. A sandboxed preload may require only 'electron' (and a few Node
// built-ins), so electron/bundle.mjs bundles this file and what it imports into one CommonJS file.

import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { BRIDGE_GLOBAL, GOVERNANCE_METHODS, MENU_CHANNEL } from '../shared/contracts/bridge';
import type { GovernanceBridge, MenuCommand, WorkbenchBridge } from '../shared/contracts/bridge';
import type { Channel, RequestOf, ResponseOf, Result } from '../shared/contracts/ipc';
import { isMenuCommand } from './menu';

/** Calls one channel; contextBridge keeps only an Error's message, so the code goes in front of it. */
async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const result = (await ipcRenderer.invoke(channel, request)) as Result<ResponseOf<C>>;
  if (result.ok) return result.data;
  throw new Error(`[${result.error.code}] ${result.error.message}`);
}

// One named method per governance channel (the table in shared/contracts/bridge.ts).
const governance = Object.fromEntries(
  Object.entries(GOVERNANCE_METHODS).map(([method, channel]) => [method, (request: RequestOf<typeof channel>) => call(channel, request)]),
) as GovernanceBridge;

const bridge = {
  ...governance,
  appInfo: () => call('wb:app-info', {}),
  listSamples: () => call('wb:samples-list', {}),
  openDataset: (source, opts) => call('wb:dataset-open', {
    source,
    ...(opts?.columnTypes ? { columnTypes: opts.columnTypes } : {}),
    ...(opts?.requestId !== undefined ? { requestId: opts.requestId } : {}),
  }),
  chooseDataset: () => call('wb:dataset-choose', {}),
  loadContributions: (request) => call('wb:contributions-load', request),
  cancel: async (requestId) => (await call('wb:request-cancel', { requestId })).cancelled,
  onMenuCommand: (listener) => {
    const handler = (_event: IpcRendererEvent, command: unknown): void => {
      if (isMenuCommand(command)) listener(command satisfies MenuCommand);
    };
    ipcRenderer.on(MENU_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(MENU_CHANNEL, handler);
    };
  },
} satisfies WorkbenchBridge;

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, bridge);
