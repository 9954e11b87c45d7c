// The main process's security decisions (electron/ipc-guard.ts), checked under plain Node.
import { join, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../../../shared/contracts/ipc';
import {
  APP_ENTRY_URL,
  CONTENT_SECURITY_POLICY,
  FILE_FILTERS,
  contentTypeOf,
  isAppUrl,
  isExternalLink,
  isKnownChannel,
  isRequestPayload,
  resolveRendererPath,
} from '../../../electron/ipc-guard';
import { MENU_COMMANDS, isMenuCommand, menuTemplate } from '../../../electron/menu';

const ROOT = resolve('/srv/dpw/.cache/renderer');

describe('isAppUrl', () => {
  it('accepts the app origin and its pages', () => {
    expect(isAppUrl('app://workbench')).toBe(true);
    expect(isAppUrl('app://workbench/')).toBe(true);
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true);
    expect(isAppUrl('app://workbench/assets/index-abc.js?x=1#top')).toBe(true);
  });
  it('rejects other schemes, hosts, ports and credentials', () => {
    expect(isAppUrl('https://evil.test')).toBe(false);
    expect(isAppUrl('https://workbench/')).toBe(false);
    expect(isAppUrl('file:///etc/passwd')).toBe(false);
    expect(isAppUrl('app://evil.test/index.html')).toBe(false);
    expect(isAppUrl('app://workbench.evil.test/')).toBe(false);
    expect(isAppUrl('app://workbench:8080/')).toBe(false);
    expect(isAppUrl('app://user@workbench/')).toBe(false);
    expect(isAppUrl('devtools://devtools/bundled/index.html')).toBe(false);
    expect(isAppUrl('about:blank')).toBe(false);
    expect(isAppUrl('')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });
});

describe('isExternalLink', () => {
  it('hands only https links to the system browser', () => {
    expect(isExternalLink('https://opendp.org/')).toBe(true);
    expect(isExternalLink('http://example.com/')).toBe(false);
    expect(isExternalLink('file:///etc/passwd')).toBe(false);
    expect(isExternalLink('javascript:alert(1)')).toBe(false);
    expect(isExternalLink('smb://host/share')).toBe(false);
    expect(isExternalLink('https://user:pw@example.com/')).toBe(false);
  });
});

describe('isKnownChannel', () => {
  it('accepts every channel of the typed map', () => {
    for (const c of CHANNELS) expect(isKnownChannel(c)).toBe(true);
  });
  it('rejects unknown channels and non-strings', () => {
    expect(isKnownChannel('wb:shell-exec')).toBe(false);
    expect(isKnownChannel('wb:app-info ')).toBe(false);
    expect(isKnownChannel('WB:APP-INFO')).toBe(false);
    expect(isKnownChannel('wb:menu-command')).toBe(false);
    expect(isKnownChannel('')).toBe(false);
    expect(isKnownChannel(undefined)).toBe(false);
    expect(isKnownChannel(42)).toBe(false);
  });
});

describe('isRequestPayload', () => {
  it('accepts objects and a missing argument, rejects anything else', () => {
    expect(isRequestPayload({})).toBe(true);
    expect(isRequestPayload({ requestId: 'r1' })).toBe(true);
    expect(isRequestPayload(undefined)).toBe(true);
    expect(isRequestPayload(null)).toBe(false);
    expect(isRequestPayload([])).toBe(false);
    expect(isRequestPayload('wb:app-info')).toBe(false);
    expect(isRequestPayload(1)).toBe(false);
  });
});

describe('resolveRendererPath', () => {
  it('maps app URLs to files inside the renderer folder', () => {
    expect(resolveRendererPath(ROOT, 'app://workbench/index.html')).toBe(join(ROOT, 'index.html'));
    expect(resolveRendererPath(ROOT, 'app://workbench/assets/index-abc.js')).toBe(join(ROOT, 'assets', 'index-abc.js'));
    expect(resolveRendererPath(ROOT, 'app://workbench/assets/a%20b.css?v=2#x')).toBe(join(ROOT, 'assets', 'a b.css'));
  });
  it('serves index.html for the root and for folders', () => {
    expect(resolveRendererPath(ROOT, 'app://workbench/')).toBe(join(ROOT, 'index.html'));
    expect(resolveRendererPath(ROOT, 'app://workbench')).toBe(join(ROOT, 'index.html'));
    expect(resolveRendererPath(ROOT, 'app://workbench/docs/')).toBe(join(ROOT, 'docs', 'index.html'));
  });
  it('refuses path traversal, literal or percent-encoded', () => {
    expect(resolveRendererPath(ROOT, 'app://workbench/../../etc/passwd')).toBeNull();
    expect(resolveRendererPath(ROOT, 'app://workbench/assets/../../../etc/passwd')).toBeNull();
    expect(resolveRendererPath(ROOT, 'app://workbench/%2e%2e/%2e%2e/etc/passwd')).toBeNull();
    expect(resolveRendererPath(ROOT, 'app://workbench/%2E%2E/etc/passwd')).toBeNull();
    expect(resolveRendererPath(ROOT, 'app://workbench/.%2e/etc/passwd')).toBeNull();
    expect(resolveRendererPath(ROOT, 'app://workbench/assets/..%2f..%2fetc%2fpasswd')).toBeNull();
    expect(resolveRendererPath(ROOT, 'app://workbench/assets/..%5c..%5cetc%5cpasswd')).toBeNull();
    expect(resolveRendererPath(ROOT, 'app://workbench/assets%5cindex.js')).toBeNull();
    expect(resolveRendererPath(ROOT, 'app://workbench/index.html%00.png')).toBeNull();
    expect(resolveRendererPath(ROOT, 'app://workbench/%E0%A4%A')).toBeNull();
  });
  it('keeps every accepted path inside the folder', () => {
    for (const url of ['app://workbench/a/./b.js', 'app://workbench//etc/passwd', 'app://workbench/%252e%252e/x']) {
      const p = resolveRendererPath(ROOT, url);
      expect(p === null || p.startsWith(ROOT + sep)).toBe(true);
    }
  });
  it('refuses other hosts and schemes', () => {
    expect(resolveRendererPath(ROOT, 'app://evil.test/index.html')).toBeNull();
    expect(resolveRendererPath(ROOT, 'https://workbench/index.html')).toBeNull();
    expect(resolveRendererPath(ROOT, 'file:///etc/passwd')).toBeNull();
    expect(resolveRendererPath(ROOT, 'not a url')).toBeNull();
  });
});

describe('contentTypeOf', () => {
  it('gives scripts a JavaScript type, so module scripts and workers run', () => {
    expect(contentTypeOf('/x/assets/index-abc.js')).toMatch(/^text\/javascript/);
    expect(contentTypeOf('/x/assets/worker.mjs')).toMatch(/^text\/javascript/);
    expect(contentTypeOf('/x/index.html')).toMatch(/^text\/html/);
    expect(contentTypeOf('/x/a.wasm')).toBe('application/wasm');
    expect(contentTypeOf('/x/unknown.bin')).toBe('application/octet-stream');
  });
});

describe('CONTENT_SECURITY_POLICY', () => {
  it('allows scripts and workers only from the app and forbids eval, plugins, framing and forms', () => {
    const directives = new Map(CONTENT_SECURITY_POLICY.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values] as const;
    }));
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('worker-src')).toEqual(["'self'", 'blob:']);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
  });
});

describe('FILE_FILTERS', () => {
  it('offers every format the data engine reads', () => {
    const all = new Set(FILE_FILTERS.flatMap((f) => f.extensions));
    for (const ext of ['csv', 'tsv', 'ndjson', 'jsonl', 'json', 'parquet', 'arrow', 'feather', 'gz']) expect(all.has(ext)).toBe(true);
  });
});

describe('menu', () => {
  const sent: string[] = [];
  const template = (isPackaged: boolean, platform = 'linux') =>
    menuTemplate({ appName: 'DP Workbench', platform, isPackaged, send: (c) => sent.push(c), showAbout: () => sent.push('about') });
  const items = (t: ReturnType<typeof template>, label: string) => {
    const sub = t.find((m) => m.label === label)?.submenu;
    return Array.isArray(sub) ? sub : [];
  };

  it('sends open-dataset and the six page commands with CmdOrCtrl+O and CmdOrCtrl+1..6', () => {
    sent.length = 0;
    const t = template(true);
    const open = items(t, 'File').find((i) => i.accelerator === 'CmdOrCtrl+O');
    open?.click?.({} as never, undefined, {} as never);
    const pages = items(t, 'View').filter((i) => /^CmdOrCtrl\+[1-6]$/.test(String(i.accelerator)));
    for (const p of pages) p.click?.({} as never, undefined, {} as never);
    expect(sent).toEqual(['open-dataset', 'go-data', 'go-metrics', 'go-privacy', 'go-simulate', 'go-results', 'go-compare']);
  });
  it('offers reload and developer tools only when not packaged', () => {
    const roles = (packaged: boolean) => items(template(packaged), 'View').map((i) => i.role);
    expect(roles(true)).not.toContain('toggleDevTools');
    expect(roles(true)).not.toContain('reload');
    expect(roles(false)).toContain('toggleDevTools');
    expect(roles(false)).toContain('reload');
  });
  it('passes on only known menu commands', () => {
    for (const c of MENU_COMMANDS) expect(isMenuCommand(c)).toBe(true);
    expect(isMenuCommand('quit')).toBe(false);
    expect(isMenuCommand(undefined)).toBe(false);
  });
});
