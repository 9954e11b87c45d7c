// The application menu as data: main builds it with Menu.buildFromTemplate; the preload uses the
// command list to pass on only known commands. Type-only electron import, so the preload bundle
// and Node tests can load this file.

import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../shared/contracts/bridge';

/** Every command the menu may send on MENU_CHANNEL. */
export const MENU_COMMANDS = ['open-dataset', 'go-data', 'go-metrics', 'go-privacy', 'go-simulate', 'go-results', 'go-compare', 'go-review'] as const satisfies readonly MenuCommand[];

export function isMenuCommand(x: unknown): x is MenuCommand {
  return typeof x === 'string' && (MENU_COMMANDS as readonly string[]).includes(x);
}

/** The View menu's pages, in the order of the app's navigation (CmdOrCtrl+1 … 7). */
const PAGES: readonly { readonly label: string; readonly command: MenuCommand }[] = [
  { label: 'Data', command: 'go-data' },
  { label: 'Metrics', command: 'go-metrics' },
  { label: 'Privacy', command: 'go-privacy' },
  { label: 'Simulate', command: 'go-simulate' },
  { label: 'Results', command: 'go-results' },
  { label: 'Compare', command: 'go-compare' },
  { label: 'Review && export', command: 'go-review' },
];

export interface MenuOptions {
  readonly appName: string;
  /** process.platform: macOS gets its application menu first. */
  readonly platform: string;
  /** Reload and developer tools are offered only when not packaged. */
  readonly isPackaged: boolean;
  /** Sends a command to the focused workbench window. */
  readonly send: (command: MenuCommand) => void;
  readonly showAbout: () => void;
}

/** The menu template: File, (Edit for copy and paste,) View, Help. */
export function menuTemplate(opts: MenuOptions): MenuItemConstructorOptions[] {
  const mac = opts.platform === 'darwin';
  const about: MenuItemConstructorOptions = { label: `About ${opts.appName}`, click: () => opts.showAbout() };
  const template: MenuItemConstructorOptions[] = [];
  if (mac) {
    template.push({
      label: opts.appName,
      submenu: [about, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }],
    });
  }
  template.push({
    label: 'File',
    submenu: [
      { label: 'Open data file…', accelerator: 'CmdOrCtrl+O', click: () => opts.send('open-dataset') },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  });
  // Without an Edit menu, copy and paste shortcuts do not reach text fields on macOS.
  template.push({ role: 'editMenu' });
  template.push({
    label: 'View',
    submenu: [
      ...PAGES.map((p, i): MenuItemConstructorOptions => ({ label: p.label, accelerator: `CmdOrCtrl+${i + 1}`, click: () => opts.send(p.command) })),
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(opts.isPackaged ? [] : [{ type: 'separator' } as const, { role: 'reload' } as const, { role: 'forceReload' } as const, { role: 'toggleDevTools' } as const]),
    ],
  });
  template.push({ role: 'help', label: 'Help', submenu: [about] });
  return template;
}
