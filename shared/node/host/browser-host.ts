// The browser host (GUIDE.md "Two hosts, one set of services"): a small HTTP server on 127.0.0.1
// that serves the built renderer and answers the same channels as Electron's IPC, through the same
// dispatcher (shared/node/app/services.ts), so the real UI and the real services run in any
// browser where Electron's binary is missing.
//
// Security: it listens on 127.0.0.1 only; a random token per start is required on every request
// (a SameSite=Strict HttpOnly cookie set from the printed link's ?token=, and for the API also the
// X-DPW-Token header, which a cross-site page cannot send); Host must be 127.0.0.1:PORT or
// localhost:PORT (DNS rebinding) and Origin, when sent, this server's own. Pages get a strict
// Content-Security-Policy and cannot be framed.
//
// API: POST /api/<channel> with a wire-encoded request (shared/core/transport/wire.ts), answered by
// a wire-encoded Result.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { CHANNELS } from '../../contracts/ipc';
import { CONTENT_SECURITY_POLICY } from '../../contracts/security';
import type { Channel } from '../../contracts/ipc';
import { decodeWire, encodeWire } from '../../core/transport/wire';
import type { Dispatch } from '../app/services';

export { CONTENT_SECURITY_POLICY };

export const TOKEN_COOKIE = 'dpw_token';
export const TOKEN_HEADER = 'x-dpw-token';
export const WIRE_TYPE = 'application/x-dpw-wire';
/** Largest request body (an uploaded sample). */
export const MAX_BODY_BYTES = 1024 * 1024 * 1024;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

export interface BrowserHostOptions {
  readonly dispatch: Dispatch;
  /** The built renderer (index.html and assets). */
  readonly rendererDir: string;
  /** 0 = a free port. */
  readonly port?: number;
  /** Fixed token (tests); default: 32 random bytes, hex. */
  readonly token?: string;
}

export interface BrowserHost {
  readonly port: number;
  readonly token: string;
  /** The link to open: it carries the token. */
  readonly url: string;
  close(): Promise<void>;
}

function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const all = Buffer.concat(chunks);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

/** Starts the server; resolves once it listens. */
export async function startBrowserHost(opts: BrowserHostOptions): Promise<BrowserHost> {
  const token = opts.token ?? randomBytes(32).toString('hex');
  const rendererDir = resolve(opts.rendererDir);
  const indexPath = join(rendererDir, 'index.html');
  if (!existsSync(indexPath)) throw new Error(`the renderer is not built: ${indexPath} is missing (run npm start, which builds it)`);
  const channels = new Set<string>(CHANNELS);
  let port = 0;

  // The page reads the API token from a meta tag (the cookie is HttpOnly); only authorised requests get the page.
  const indexHtml = (): string => readFileSync(indexPath, 'utf8').replace('</head>', `<meta name="dpw-token" content="${token}"></head>`);
  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    if (!allowedHosts().includes(host)) return send(res, 421, `DP Workbench answers only to 127.0.0.1:${port} (Host was ${JSON.stringify(host)})`);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null' && !allowedHosts().map((h) => `http://${h}`).includes(origin)) {
      return send(res, 403, `requests from ${origin} are refused`);
    }
    const url = new URL(req.url ?? '/', `http://${host}`);
    // The printed link: exchange ?token= for a cookie and drop it from the address bar.
    const queryToken = url.searchParams.get('token');
    if (queryToken !== null && req.method === 'GET') {
      if (!sameSecret(queryToken, token)) return send(res, 401, 'This link\'s token is not the one DP Workbench printed when it started. Use the link from the terminal.');
      res.writeHead(303, {
        Location: url.pathname,
        'Set-Cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        'Cache-Control': 'no-store',
      });
      return void res.end();
    }
    const headerToken = req.headers[TOKEN_HEADER];
    const authorised = sameSecret(typeof headerToken === 'string' ? headerToken : undefined, token) || sameSecret(cookieValue(req.headers.cookie, TOKEN_COOKIE), token);
    if (!authorised) return send(res, 401, 'DP Workbench needs the link printed in the terminal when it started (it carries a one-time token).');

    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return send(res, 405, 'use POST');
      // The API needs the header itself: a cookie alone could ride along a cross-site request.
      if (!sameSecret(typeof headerToken === 'string' ? headerToken : undefined, token)) return send(res, 401, 'the API needs the X-DPW-Token header');
      const channel = decodeURIComponent(url.pathname.slice('/api/'.length));
      if (!channels.has(channel)) return send(res, 404, `unknown channel ${JSON.stringify(channel)}`);
      let request: unknown;
      try {
        const body = await readBody(req);
        request = body.length === 0 ? {} : decodeWire(body);
      } catch (e) {
        return send(res, 400, `bad request body: ${(e as Error).message}`);
      }
      // The client may go away (page closed); the work is cancelled through wb:request-cancel.
      const result = await opts.dispatch(channel as Channel, request as never);
      const bytes = encodeWire(result);
      res.writeHead(200, { 'Content-Type': WIRE_TYPE, 'Content-Length': bytes.byteLength, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      return void res.end(bytes);
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    let path = decodeURIComponent(url.pathname);
    if (path === '/' || path === '') path = '/index.html';
    const file = normalize(join(rendererDir, path));
    if (!file.startsWith(rendererDir + sep)) return send(res, 404, 'not found');
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      isFile = false;
    }
    const headers = {
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
    };
    if (!isFile) {
      // Client-side routes fall back to the app.
      if (extname(path) !== '' && !path.endsWith('.html')) return send(res, 404, 'not found');
      res.writeHead(200, { ...headers, 'Content-Type': MIME['.html']!, 'Cache-Control': 'no-store' });
      return void res.end(indexHtml());
    }
    if (file === indexPath) {
      res.writeHead(200, { ...headers, 'Content-Type': MIME['.html']!, 'Cache-Control': 'no-store' });
      return void res.end(req.method === 'HEAD' ? undefined : indexHtml());
    }
    const type = MIME[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Cache-Control': 'private, max-age=3600' });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `internal error: ${(e as Error).message}`);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
