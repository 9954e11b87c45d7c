// The browser host's client: WorkbenchBridge over fetch (POST /api/<channel>, wire-encoded request
// and Result; shared/node/host/browser-host.ts). The API token comes from the page's meta tag.

import { GOVERNANCE_METHODS } from '../../shared/contracts/bridge';
import type { GovernanceBridge, WorkbenchBridge } from '../../shared/contracts/bridge';
import type { Channel, DatasetSummary, RequestOf, ResponseOf, Result } from '../../shared/contracts/ipc';
import { decodeWire, encodeWire } from '../../shared/core/transport/wire';

const FILE_ACCEPT = '.csv,.tsv,.gz,.ndjson,.jsonl,.json,.parquet,.pq,.arrow,.feather,.ipc';

function token(): string {
  return document.querySelector('meta[name="dpw-token"]')?.getAttribute('content') ?? '';
}

async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const res = await fetch(`./api/${encodeURIComponent(channel)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-dpw-wire', 'X-DPW-Token': token() },
    body: encodeWire(request) as BodyInit,
  });
  if (!res.ok) {
    const text = await res.text();
    throw new Error(`[${res.status === 401 || res.status === 403 ? 'Forbidden' : 'Internal'}] ${text || `HTTP ${res.status}`}`);
  }
  const result = decodeWire<Result<ResponseOf<C>>>(new Uint8Array(await res.arrayBuffer()));
  if (!result.ok) throw new Error(`[${result.error.code}] ${result.error.message}`);
  return result.data;
}

/** Lets the user pick a file with the browser's file input; resolves null when they cancel. */
function pickFile(): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = FILE_ACCEPT;
    input.style.display = 'none';
    input.setAttribute('data-testid', 'dataset-file-input');
    let settled = false;
    const done = (f: File | null): void => {
      if (settled) return;
      settled = true;
      input.remove();
      resolve(f);
    };
    input.addEventListener('change', () => done(input.files?.[0] ?? null));
    input.addEventListener('cancel', () => done(null));
    document.body.appendChild(input);
    input.click();
  });
}

export function makeHttpBridge(): WorkbenchBridge {
  const governance = Object.fromEntries(
    Object.entries(GOVERNANCE_METHODS).map(([method, channel]) => [method, (request: RequestOf<typeof channel>) => call(channel, request)]),
  ) as GovernanceBridge;
  return {
    ...governance,
    appInfo: () => call('wb:app-info', {}),
    listSamples: () => call('wb:samples-list', {}),
    openDataset: (source, opts) => call('wb:dataset-open', { source, ...(opts?.columnTypes ? { columnTypes: opts.columnTypes } : {}), ...(opts?.requestId ? { requestId: opts.requestId } : {}) }),
    async chooseDataset(): Promise<DatasetSummary | null> {
      const file = await pickFile();
      if (!file) return null;
      const bytes = new Uint8Array(await file.arrayBuffer());
      return call('wb:dataset-open', { source: { kind: 'upload', name: file.name, bytes } });
    },
    loadContributions: (request) => call('wb:contributions-load', request),
    cancel: async (requestId) => (await call('wb:request-cancel', { requestId })).cancelled,
  };
}
