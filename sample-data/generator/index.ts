// Public API of the sample-data generator.

export { generateProductEvents, productShape, PRODUCT_COLUMNS, PRODUCT_PARAMS, COUNTRIES, MOBILE_VERSIONS, CAMPAIGNS, EVENT_TYPES, PLATFORMS } from './product-events';
export type { ProductEvent, ProductSummary, EventType, Platform, BotKind } from './product-events';
export { generateSaasUsage, saasShape, SAAS_COLUMNS, SAAS_PARAMS, REGIONS, FEATURES, PLANS } from './saas-usage';
export type { SaasEvent, SaasSummary, Plan } from './saas-usage';
export { SHAPES, SHAPE_NAMES } from './shapes';
export type { ShapeName, ShapeSummary } from './shapes';
export type { ColumnSpec, ColumnKind, GenerateOptions, Shape, SampleRow } from './shape';
export { DUCKDB_TYPE } from './shape';
export { csvField, makeCsvFormatter, makeNdjsonFormatter } from './csv';
export { writeSample, writeText, csvToParquet, readCsvSql, formatFromPath, FORMATS } from './write';
export type { SampleFormat, WriteSampleOptions, WriteSampleResult } from './write';
export { COMMITTED_FILES, DEFAULT_SEED } from './committed';
export type { CommittedFile } from './committed';
export { WINDOW_START_MS, WINDOW_END_MS, WINDOW_DAYS, isoSeconds } from './calendar';
