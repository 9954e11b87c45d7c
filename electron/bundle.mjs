// Builds the Electron main process and preload with esbuild into <root>/.cache/electron/, and
// finds Electron's binary without loading the `electron` package (its index.js downloads the
// binary when missing, which is blocked on our machines). Used by bin/start.mjs and the e2e test.

import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/**
 * CommonJS has no import.meta, and esbuild leaves `import.meta.url` empty there, so a module that
 * computes paths from it at load time (shared/node/workers/entry.ts) would throw when main starts.
 * Each of the repository's TypeScript modules gets its own source file's URL instead: paths stay
 * relative to the source, as when it runs through tsx (the bundle runs from the repository).
 * @type {import('esbuild').Plugin}
 */
const sourceImportMetaUrl = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      if (/[\\/]node_modules[\\/]/.test(args.path)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

/**
 * Bundles electron/main.ts → .cache/electron/main.cjs and electron/preload.ts → preload.cjs.
 * Main keeps every node_modules package external (it runs from the repository, beside
 * node_modules, and DuckDB has native parts); the preload runs sandboxed, where `require` knows
 * only 'electron', so everything else is inlined and any other require is an error.
 * @param {string} root the repository root
 * @returns {Promise<{ main: string; preload: string }>} the two output files
 */
export async function bundleElectron(root) {
  const outdir = join(root, '.cache', 'electron');
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    tsconfig: join(root, 'electron', 'tsconfig.json'),
    plugins: [sourceImportMetaUrl],
  };
  const main = join(outdir, 'main.cjs');
  const preload = join(outdir, 'preload.cjs');
  const [, preloadResult] = await Promise.all([
    build({ ...common, entryPoints: [join(root, 'electron', 'main.ts')], outfile: main, packages: 'external', external: ['electron', '@duckdb/*'] }),
    build({ ...common, entryPoints: [join(root, 'electron', 'preload.ts')], outfile: preload, external: ['electron'] }),
  ]);
  const output = preloadResult.metafile.outputs[relative(root, preload).split('\\').join('/')];
  const foreign = (output?.imports ?? []).filter((i) => i.external && i.path !== 'electron').map((i) => i.path);
  if (foreign.length > 0) {
    throw new Error(`the sandboxed preload may require only 'electron', but its bundle requires ${foreign.join(', ')}`);
  }
  return { main, preload };
}

/**
 * Electron's executable as installed by the `electron` package (node_modules/electron/path.txt
 * names it inside node_modules/electron/dist), or null with the reason it cannot be used.
 * Honours ELECTRON_OVERRIDE_DIST_PATH like the package does.
 * @param {string} root the repository root
 * @returns {{ path: string } | { path: null; reason: string }}
 */
export function electronBinary(root) {
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkg, 'package.json'))) {
    return { path: null, reason: 'the electron package is not installed (node_modules/electron missing: run npm install)' };
  }
  const pathFile = join(pkg, 'path.txt');
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const dist = override ? override : join(pkg, 'dist');
  if (!existsSync(pathFile) && !override) {
    return { path: null, reason: "Electron's binary is not installed (node_modules/electron/path.txt and dist/ missing: its download is blocked on this machine)" };
  }
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const executable = join(dist, name);
  if (!existsSync(executable)) {
    return { path: null, reason: `Electron's binary is not installed (${relative(root, executable) || executable} missing: its download is blocked on this machine)` };
  }
  return { path: executable };
}
