// Types of bundle.mjs (plain JavaScript so the launcher runs it without a TypeScript loader).

/** Bundles electron/main.ts and electron/preload.ts to <root>/.cache/electron/{main,preload}.cjs. */
export function bundleElectron(root: string): Promise<{ main: string; preload: string }>;

/** Electron's executable, or null with a readable reason (never loads the electron package). */
export function electronBinary(root: string): { path: string } | { path: null; reason: string };
