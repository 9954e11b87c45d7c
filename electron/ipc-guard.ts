// The security decisions of the Electron main process as plain functions (no electron import), so
// they are unit-tested under Node: which URLs are the app, which IPC channels and payloads are
// accepted, which files the app:// protocol may serve and with which headers.

import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { CHANNELS } from '../shared/contracts/ipc';
import type { Channel } from '../shared/contracts/ipc';

/** The privileged scheme the renderer is served from (registered as standard and secure). */
export const APP_SCHEME = 'app';
/** The one host of that scheme; together they make the app's origin `app://workbench`. */
export const APP_HOST = 'workbench';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** What the window loads. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** The renderer's Content-Security-Policy (shared with the browser host). */
export { CONTENT_SECURITY_POLICY } from '../shared/contracts/security';

/** Filters of the native open dialog: the formats shared/node/data/ingest reads (gzip-compressed text too). */
export const FILE_FILTERS: { name: string; extensions: string[] }[] = [
  { name: 'Data files', extensions: ['csv', 'tsv', 'tab', 'ndjson', 'jsonl', 'json', 'parquet', 'pq', 'arrow', 'feather', 'ipc', 'arrows', 'gz'] },
  { name: 'CSV / TSV', extensions: ['csv', 'tsv', 'tab'] },
  { name: 'NDJSON / JSON', extensions: ['ndjson', 'jsonl', 'json'] },
  { name: 'Parquet', extensions: ['parquet', 'pq'] },
  { name: 'Arrow', extensions: ['arrow', 'feather', 'ipc', 'arrows'] },
  { name: 'Compressed text (gz)', extensions: ['gz'] },
  { name: 'All files', extensions: ['*'] },
];

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** True when the URL belongs to the app's origin `app://workbench` (no credentials, no port). */
export function isAppUrl(url: string): boolean {
  const u = parse(url);
  return u !== null && u.protocol === `${APP_SCHEME}:` && u.host.toLowerCase() === APP_HOST && u.username === '' && u.password === '';
}

/** True for a link the app may hand to the system browser: https only, no credentials in it. */
export function isExternalLink(url: string): boolean {
  const u = parse(url);
  return u !== null && u.protocol === 'https:' && u.hostname !== '' && u.username === '' && u.password === '';
}

/** True when `x` names a channel of the typed map (shared/contracts/ipc.ts). */
export function isKnownChannel(x: unknown): x is Channel {
  return typeof x === 'string' && (CHANNELS as readonly string[]).includes(x);
}

/** Every request of the map is an object; `undefined` (no argument) is read as `{}`. */
export function isRequestPayload(x: unknown): x is Record<string, unknown> | undefined {
  return x === undefined || (typeof x === 'object' && x !== null && !Array.isArray(x));
}

// A dot-dot segment, literal or percent-encoded, between any kind of slash: refused before the
// URL parser silently resolves it (new URL('app://workbench/%2e%2e/x').pathname is '/x').
const DOT_DOT_SEGMENT = /(^|\/|\\|%2f|%5c)(\.|%2e){2}(\/|\\|%2f|%5c|$)/i;

/**
 * The file under `rendererDir` an app:// request asks for, or null when the URL is not the app's
 * (another scheme or host) or tries to leave the folder (dot-dot segments, encoded or not,
 * backslashes, NUL bytes). A path ending in '/' means its index.html.
 */
export function resolveRendererPath(rendererDir: string, requestUrl: string): string | null {
  const rawPath = requestUrl.replace(/[?#].*$/s, '');
  if (DOT_DOT_SEGMENT.test(rawPath)) return null;
  if (!isAppUrl(requestUrl)) return null;
  const u = parse(requestUrl);
  if (!u) return null;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.includes('\\')) return null;
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return null;
  if (segments.length === 0 || path.endsWith('/')) segments.push('index.html');
  const root = resolve(rendererDir);
  const file = join(root, ...segments);
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  return file;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/** Content-Type of a served file (module scripts and workers need a JavaScript type to run). */
export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}
