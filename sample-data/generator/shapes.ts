// The registry of sample shapes.

import { productShape } from './product-events';
import type { ProductSummary } from './product-events';
import { saasShape } from './saas-usage';
import type { SaasSummary } from './saas-usage';
import type { ColumnKind, GenerateOptions, SampleRow } from './shape';

export type ShapeName = 'product' | 'saas';
export type ShapeSummary = ProductSummary | SaasSummary;

/** A shape with its row type erased, for code that handles every shape alike (writers, CLI). */
export interface AnyShape {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly { readonly name: string; readonly type: ColumnKind; readonly description: string }[];
  generate(opts: GenerateOptions, emit: (row: SampleRow) => void): ShapeSummary;
}

export const SHAPES: Readonly<Record<ShapeName, AnyShape>> = {
  product: productShape,
  saas: saasShape,
};

export const SHAPE_NAMES = Object.keys(SHAPES) as ShapeName[];
