// Canonical JSON: one byte sequence per value, so a config's hash (sha256 of this text, computed by
// the Node caller as `sha256:<hex>`) does not depend on key order or formatting.

/** A copy of a JSON value with every object's keys sorted (by UTF-16 code units); undefined members dropped. */
export function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : canonicalize(v)));
  if (value !== null && typeof value === 'object') {
    const src = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(src).sort()) {
      const v = src[k];
      if (v !== undefined) out[k] = canonicalize(v);
    }
    return out;
  }
  return value;
}

/** JSON with keys sorted recursively, 2-space indent and a trailing newline. */
export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(canonicalize(value), null, 2)}\n`;
}
