// The script a simulation worker thread starts from. A worker begins with a fresh module loader,
// and the CLI's TypeScript runs through tsx; loading ~15 TypeScript modules through tsx in every
// worker costs ~130 ms (more on a busy machine) on top of Node's own ~60 ms worker start. So the
// worker host and the engine are bundled once into one plain ES module with esbuild (tsx's own
// dependency, resolved through tsx), cached under .cache/workers/ and rebuilt when a source file
// changes (their mtimes and sizes are recorded). If esbuild cannot run, the worker loads the
// TypeScript through tsx's CommonJS hook instead (bootstrap-tsx.mjs).

import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SOURCE = fileURLToPath(new URL('./simulation-worker.ts', import.meta.url));
const FALLBACK = new URL('./bootstrap-tsx.mjs', import.meta.url);
const CACHE_DIR = fileURLToPath(new URL('../../../.cache/workers/', import.meta.url));
const BUNDLE = `${CACHE_DIR}simulation-worker.mjs`;
const META = `${CACHE_DIR}simulation-worker.inputs.json`;

interface InputStamp {
  readonly path: string;
  readonly mtimeMs: number;
  readonly size: number;
}

function stamp(path: string): InputStamp {
  const s = statSync(path);
  return { path, mtimeMs: s.mtimeMs, size: s.size };
}

function bundleIsFresh(): boolean {
  if (!existsSync(BUNDLE) || !existsSync(META)) return false;
  try {
    const inputs = JSON.parse(readFileSync(META, 'utf8')) as InputStamp[];
    return inputs.length > 0 && inputs.every((i) => {
      const now = stamp(i.path);
      return now.mtimeMs === i.mtimeMs && now.size === i.size;
    });
  } catch {
    return false;
  }
}

interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<{ metafile?: { inputs: Record<string, unknown> } }>;
}

async function buildBundle(): Promise<void> {
  const requireFromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  const esbuild = requireFromTsx('esbuild') as EsbuildLike;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  const result = await esbuild.build({
    entryPoints: [SOURCE],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: tmp,
    metafile: true,
    write: true,
    logLevel: 'silent',
    absWorkingDir: fileURLToPath(new URL('../../../', import.meta.url)),
  });
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const inputs = Object.keys(result.metafile?.inputs ?? {}).map((p) => stamp(p.startsWith('/') ? p : root + p));
  // Rename last, so a concurrent process sees either the old complete bundle or the new one.
  writeFileSync(`${META}.${process.pid}.tmp`, JSON.stringify(inputs));
  renameSync(tmp, BUNDLE);
  renameSync(`${META}.${process.pid}.tmp`, META);
}

let entry: Promise<URL> | null = null;

/** The URL to start simulation workers from (built or checked once per process). */
export function workerEntry(): Promise<URL> {
  entry ??= (async () => {
    try {
      if (!bundleIsFresh()) await buildBundle();
      return pathToFileURL(BUNDLE);
    } catch {
      return FALLBACK;
    }
  })();
  return entry;
}
