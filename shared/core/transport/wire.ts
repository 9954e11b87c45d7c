// A binary envelope for values that hold typed arrays (contributions are megabytes of Int32Array
// and Float64Array): the browser host answers with it, its client decodes it; JSON would be ~5×
// larger and slow to parse. Electron's IPC needs none of this (structured clone keeps typed arrays).
//
// Layout: "DPW1" | u32 LE header length | header (UTF-8 JSON, typed arrays replaced by
// {"$ta": kind, "i": index}) | zero padding to 8 | each array's bytes, each padded to 8.
// Byte order: the machine's (both ends run on the same machine: the host is on 127.0.0.1).

declare const TextEncoder: { new (): { encode(s: string): Uint8Array } };
declare const TextDecoder: { new (label?: string, opts?: { fatal?: boolean }): { decode(b: Uint8Array): string } };

const MAGIC = [0x44, 0x50, 0x57, 0x31]; // "DPW1"

const KINDS = {
  Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array,
} as const;
type Kind = keyof typeof KINDS;
type AnyTyped = InstanceType<(typeof KINDS)[Kind]>;

function kindOf(v: unknown): Kind | undefined {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return undefined;
  const name = (v as { constructor: { name: string } }).constructor.name;
  return name in KINDS ? (name as Kind) : undefined;
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** Encodes a JSON-like value whose leaves may be typed arrays. */
export function encodeWire(value: unknown): Uint8Array {
  const arrays: AnyTyped[] = [];
  const offsets: number[] = [];
  let dataBytes = 0;
  const json = JSON.stringify(value, (_key: string, v: unknown) => {
    const kind = kindOf(v);
    if (kind) {
      const a = v as AnyTyped;
      arrays.push(a);
      offsets.push(dataBytes);
      dataBytes += pad8(a.byteLength);
      return { $ta: kind, o: offsets[offsets.length - 1], n: a.length };
    }
    return v;
  });
  const header = new TextEncoder().encode(json ?? 'null');
  const dataStart = pad8(8 + header.length);
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.length, true);
  out.set(header, 8);
  arrays.forEach((a, i) => out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + offsets[i]!));
  return out;
}

/** Decodes encodeWire's output; typed arrays come back as views on one copy of the bytes. */
export function decodeWire<T = unknown>(bytes: Uint8Array): T {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('not a DPW1 wire message');
  // Copy once so the arrays are aligned whatever the input's offset.
  const buf = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLength = view.getUint32(4, true);
  if (8 + headerLength > buf.length) throw new Error('truncated DPW1 wire message');
  const json = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLength));
  const dataStart = pad8(8 + headerLength);
  return JSON.parse(json, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && '$ta' in v && 'o' in v && 'n' in v) {
      const { $ta, o, n } = v as { $ta: Kind; o: number; n: number };
      const Ctor = Object.hasOwn(KINDS, $ta) ? KINDS[$ta] : undefined;
      if (!Ctor) throw new Error(`unknown typed array kind ${String($ta)}`);
      const at = dataStart + o;
      if (!Number.isSafeInteger(at) || !Number.isSafeInteger(n) || n < 0 || at + n * Ctor.BYTES_PER_ELEMENT > buf.length) throw new Error('truncated DPW1 wire message');
      return new Ctor(buf.buffer as ArrayBuffer, buf.byteOffset + at, n);
    }
    return v;
  }) as T;
}
