// The renderer's one accessor of the host (GUIDE.md "Boundaries"): Electron's preload bridge when
// it is there, else the browser host's client. Errors of either come out as BridgeError with a code.

import type { GovernanceBridge, WorkbenchBridge } from '../../shared/contracts/bridge';
import { BRIDGE_GLOBAL, GOVERNANCE_METHODS } from '../../shared/contracts/bridge';
import type { ErrorCode } from '../../shared/contracts/ipc';
import { makeHttpBridge } from './http-bridge';

export class BridgeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}

const CODED = /^\[([A-Za-z]+)\]\s*/;

/** Any error of a bridge call → BridgeError (Electron's contextBridge keeps only "[Code] message"). */
export function toBridgeError(e: unknown): BridgeError {
  if (e instanceof BridgeError) return e;
  const raw = e instanceof Error ? e.message : String(e);
  // Electron prefixes "Error invoking remote method '…': " to errors thrown in main.
  const msg = raw.replace(/^Error invoking remote method '[^']*': (Error: )?/, '');
  const m = CODED.exec(msg);
  if (m) return new BridgeError(m[1] as ErrorCode, msg.slice(m[0].length));
  if (e instanceof TypeError) return new BridgeError('Internal', `the workbench's host did not answer (${msg}); is it still running?`);
  return new BridgeError('Internal', msg);
}

function normalised(b: WorkbenchBridge): WorkbenchBridge {
  const wrap = <A extends unknown[], R>(f: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    try {
      return await f(...args);
    } catch (e) {
      throw toBridgeError(e);
    }
  };
  const governance = Object.fromEntries(
    (Object.keys(GOVERNANCE_METHODS) as (keyof GovernanceBridge)[]).map((m) => [m, wrap((req: never) => (b[m] as (r: never) => Promise<unknown>)(req))]),
  ) as unknown as GovernanceBridge;
  return {
    ...governance,
    appInfo: wrap(() => b.appInfo()),
    listSamples: wrap(() => b.listSamples()),
    openDataset: wrap((s, o) => b.openDataset(s, o)),
    chooseDataset: wrap(() => b.chooseDataset()),
    loadContributions: wrap((r) => b.loadContributions(r)),
    cancel: wrap((id) => b.cancel(id)),
    ...(b.onMenuCommand ? { onMenuCommand: (l: Parameters<NonNullable<WorkbenchBridge['onMenuCommand']>>[0]) => b.onMenuCommand!(l) } : {}),
  };
}

let bridge: WorkbenchBridge | undefined;

/** The host bridge (created once). */
export function getBridge(): WorkbenchBridge {
  if (!bridge) {
    const injected = (globalThis as Record<string, unknown>)[BRIDGE_GLOBAL] as WorkbenchBridge | undefined;
    bridge = normalised(injected ?? makeHttpBridge());
  }
  return bridge;
}

/** Tests and benchmarks can substitute a bridge. */
export function setBridge(b: WorkbenchBridge): void {
  bridge = normalised(b);
}
