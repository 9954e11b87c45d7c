// Python source helpers shared by the engine exports (PipelineDP, OpenDP, Tumult): literals that
// never let a label or a value escape its string, and names that are always valid identifiers.

import type { Dimension, Filter } from '../config/schema';
import { num } from './common';

/** A Python string literal (JSON's escapes are valid Python escapes). */
export function pyStr(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function pyNum(x: number): string {
  return num(x);
}

export function pyScalar(v: string | number | boolean): string {
  if (typeof v === 'string') return pyStr(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return pyNum(v);
}

export function pyList(items: readonly string[]): string {
  return `[${items.join(', ')}]`;
}

/** A valid, unique-per-index Python identifier from a metric id ("a.b-c" → "a_b_c"). */
export function pyName(prefix: string, id: string, index: number): string {
  return `${prefix}_${index}_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Filters as Python data: [("column", "op", value), ...]. */
export function pyFilters(fs: readonly Filter[]): string {
  return pyList(fs.map((f) => `(${pyStr(f.column)}, ${pyStr(f.op)}, ${Array.isArray(f.value) ? pyList(f.value.map(pyScalar)) : pyScalar(f.value)})`));
}

/** Dimensions as Python data: [("column", "day" | "week" | None), ...]. */
export function pyDims(dims: readonly Dimension[]): string {
  return pyList(dims.map((d) => `(${pyStr(d.column)}, ${d.bucket ? pyStr(d.bucket) : 'None'})`));
}
