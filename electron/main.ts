// The Electron main process: one hardened window showing the renderer from the privileged
// app://workbench/ protocol, the application menu, the native open dialog, and one IPC handler per
// channel of shared/contracts/ipc.ts that checks the sender and calls the shared services (the same
// dispatcher the browser host wraps). Bundled by electron/bundle.mjs to .cache/electron/main.cjs.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BrowserWindow, Menu, app, dialog, ipcMain, protocol, session, shell } from 'electron';
import type { IpcMainInvokeEvent, MessageBoxOptions, OpenDialogOptions, WebContents } from 'electron';
import { MENU_CHANNEL } from '../shared/contracts/bridge';
import type { MenuCommand } from '../shared/contracts/bridge';
import { CHANNELS } from '../shared/contracts/ipc';
import type { Channel, RequestOf, Result } from '../shared/contracts/ipc';
import { makeDispatcher, makeWorkbenchServices } from '../shared/node/app/services';
import type { Dispatch, WorkbenchServices } from '../shared/node/app/services';
import { APP_ENTRY_URL, APP_SCHEME, CONTENT_SECURITY_POLICY, FILE_FILTERS, contentTypeOf, isAppUrl, isExternalLink, isKnownChannel, isRequestPayload, resolveRendererPath } from './ipc-guard';
import { menuTemplate } from './menu';

const APP_NAME = 'DP Workbench';

// The bundle runs from <root>/.cache/electron/main.cjs: the repository root is two levels up.
const ROOT = resolve(__dirname, '..', '..');
const RENDERER_DIR = resolve(process.env['DPW_RENDERER_DIR'] ?? join(ROOT, '.cache', 'renderer'));
const PRELOAD = join(__dirname, 'preload.cjs');

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof pkg.version === 'string') return pkg.version;
  } catch {
    // Fall through: Electron's idea of the version is better than none.
  }
  return app.getVersion();
}

const VERSION = readVersion();

// Must happen before 'ready': a standard, secure scheme gets a real origin (app://workbench), web
// storage, fetch and module scripts and workers, like https.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } },
]);
app.enableSandbox();
app.setName(APP_NAME);

let services: WorkbenchServices | null = null;
let dispatch: Dispatch | null = null;
let mainWindow: BrowserWindow | null = null;

async function serveRenderer(request: Request): Promise<Response> {
  const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' };
  if (request.method !== 'GET' && request.method !== 'HEAD') return new Response('method not allowed', { status: 405, headers });
  const file = resolveRendererPath(RENDERER_DIR, request.url);
  if (file === null) return new Response('forbidden', { status: 403, headers });
  try {
    const body = await readFile(file);
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers: { ...headers, 'Content-Type': contentTypeOf(file) } });
  } catch {
    return new Response(`not found (is the renderer built into ${RENDERER_DIR}?)`, { status: 404, headers });
  }
}

function forbidden(channel: string, why: string): Result<never> {
  return { ok: false, error: { code: 'Forbidden', message: `${channel}: ${why}` } };
}

/** The one wrapper every channel goes through: known channel, app sender, object payload, then the services. */
async function handleInvoke(channel: string, event: IpcMainInvokeEvent, request: unknown): Promise<Result<unknown>> {
  if (!isKnownChannel(channel)) return forbidden(channel, 'unknown channel');
  const url = event.senderFrame?.url;
  if (url === undefined || !isAppUrl(url)) return forbidden(channel, 'calls are accepted only from the workbench page');
  if (!isRequestPayload(request)) return { ok: false, error: { code: 'InvalidParameter', message: `${channel}: the request must be an object` } };
  if (dispatch === null) return { ok: false, error: { code: 'Internal', message: `${channel}: the services are not running` } };
  return dispatch<Channel>(channel, (request ?? {}) as RequestOf<Channel>);
}

async function choosePath(): Promise<string | null> {
  const options: OpenDialogOptions = { title: 'Open a data file', properties: ['openFile'], filters: FILE_FILTERS };
  const owner = BrowserWindow.getFocusedWindow() ?? mainWindow;
  const result = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

function sendMenuCommand(command: MenuCommand): void {
  const win = BrowserWindow.getFocusedWindow() ?? mainWindow;
  win?.webContents.send(MENU_CHANNEL, command);
}

function showAbout(): void {
  const options: MessageBoxOptions = {
    type: 'info',
    title: `About ${APP_NAME}`,
    message: `${APP_NAME} ${VERSION}`,
    detail: `Pilot differentially private product metrics offline, simulate their error, review and export production configs.\n\nElectron ${process.versions.electron ?? '?'} · Chromium ${process.versions.chrome ?? '?'} · Node ${process.versions.node}`,
    buttons: ['OK'],
  };
  const owner = BrowserWindow.getFocusedWindow() ?? mainWindow;
  void (owner ? dialog.showMessageBox(owner, options) : dialog.showMessageBox(options));
}

/** Navigation, new windows and webviews: stay on the app's origin; https links open in the system browser. */
function guardContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    title: APP_NAME,
    width: 1440,
    height: 920,
    minWidth: 960,
    minHeight: 640,
    show: false,
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

app.on('web-contents-created', (_event, contents) => guardContents(contents));

app.whenReady().then(() => {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  // Checks too, except writing to the clipboard from the app (copying an exported config).
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin) => permission === 'clipboard-sanitized-write' && isAppUrl(requestingOrigin));
  protocol.handle(APP_SCHEME, serveRenderer);

  services = makeWorkbenchServices({
    host: 'electron',
    workspaceDir: process.env['DPW_WORKSPACE'] ?? join(app.getPath('documents'), 'DP Workbench', 'workspace'),
    version: VERSION,
    samplesDir: join(ROOT, 'sample-data'),
    uploadsDir: join(app.getPath('userData'), 'uploads'),
  });
  dispatch = makeDispatcher(services, { choosePath });
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, (event, request: unknown) => handleInvoke(channel, event, request));
  }

  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate({
    appName: APP_NAME,
    platform: process.platform,
    isPackaged: app.isPackaged,
    send: sendMenuCommand,
    showAbout,
  })));

  mainWindow = createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
}).catch((e: unknown) => {
  dialog.showErrorBox(APP_NAME, `The workbench could not start: ${e instanceof Error ? e.message : String(e)}`);
  app.exit(1);
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Close the open datasets (DuckDB engines) before the process ends; quit again once they are closed.
let servicesClosed = false;
app.on('will-quit', (event) => {
  if (servicesClosed || services === null) return;
  event.preventDefault();
  const closing = services;
  services = null;
  dispatch = null;
  closing.close().catch(() => undefined).finally(() => {
    servicesClosed = true;
    app.quit();
  });
});
