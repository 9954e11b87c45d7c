// A small wrapper that owns one embedded DuckDB database and one connection. The data services
// (loading, profiling, true values) run their SQL through it. Queries on one Engine run one at a
// time, in call order; a query can be cancelled with an AbortSignal (the connection is
// interrupted) and reports DuckDB's own progress while it runs.

import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';

export interface EngineOptions {
  /** Database file; in memory when absent. */
  readonly path?: string;
  /** Worker threads (DuckDB's default: one per core). */
  readonly threads?: number;
  /** e.g. '1GB'. DuckDB's default: 80% of RAM. */
  readonly memoryLimit?: string;
  /** Where DuckDB may spill larger-than-memory work. */
  readonly tempDirectory?: string;
}

export interface QueryProgress {
  /** 0..1, or null while DuckDB cannot tell yet. */
  readonly fraction: number | null;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Called every `progressIntervalMs` while the query runs. */
  readonly onProgress?: (p: QueryProgress) => void;
  readonly progressIntervalMs?: number;
}

/** Thrown by `run`/`rows` when the signal fires (before or during the query). */
export class QueryCancelled extends Error {
  constructor(cause?: unknown) {
    super('query cancelled', cause === undefined ? undefined : { cause });
    this.name = 'QueryCancelled';
  }
}

export type Row = Record<string, unknown>;

/** SQL identifier, always quoted: `"my ""col"""`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** SQL string literal: `'it''s'`. NUL cannot occur in a DuckDB string literal. */
export function quoteLiteral(text: string): string {
  if (text.includes('\u0000')) throw new Error('a SQL string literal cannot hold a NUL character');
  return `'${text.replace(/'/g, "''")}'`;
}

function isInterrupt(e: unknown): boolean {
  return e instanceof Error && /^INTERRUPT Error|Interrupted!/.test(e.message);
}

let tableCounter = 0;

export class Engine {
  private queue: Promise<unknown> = Promise.resolve();
  private isClosed = false;

  private constructor(
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const config: Record<string, string> = {};
    if (options.threads !== undefined) config['threads'] = String(options.threads);
    if (options.memoryLimit !== undefined) config['memory_limit'] = options.memoryLimit;
    if (options.tempDirectory !== undefined) config['temp_directory'] = options.tempDirectory;
    const instance = await DuckDBInstance.create(options.path ?? ':memory:', config);
    let connection: DuckDBConnection;
    try {
      connection = await instance.connect();
      // Progress is only tracked when the progress bar is on; never print it.
      await connection.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
    } catch (e) {
      instance.closeSync();
      throw e;
    }
    return new Engine(instance, connection);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** A table name not used before in this process: `dpw_<prefix>_<n>`. */
  newTableName(prefix = 'data'): string {
    tableCounter += 1;
    return `dpw_${prefix.replace(/[^A-Za-z0-9_]/g, '_')}_${tableCounter}`;
  }

  /** Run a statement (or several separated by `;`) and discard its result. */
  async run(sql: string, options: RunOptions = {}): Promise<void> {
    await this.exclusive(options, async () => {
      await this.connection.run(sql);
    });
  }

  /** Run a query and return its rows as plain JS objects (BIGINT as bigint, DOUBLE as number, TIMESTAMP as Date). */
  async rows(sql: string, options: RunOptions & { params?: DuckDBValue[] } = {}): Promise<Row[]> {
    return this.exclusive(options, async () => {
      const reader = await this.connection.runAndReadAll(sql, options.params);
      return reader.getRowObjectsJS() as Row[];
    });
  }

  /** The first row of a query, or undefined. */
  async row(sql: string, options: RunOptions & { params?: DuckDBValue[] } = {}): Promise<Row | undefined> {
    return (await this.rows(sql, options))[0];
  }

  /**
   * Run `work` with the connection to itself (no other query of this Engine in between), e.g. to
   * use an appender. The signal is checked before it starts; `work` checks it itself afterwards.
   */
  async withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.exclusive({ ...(signal ? { signal } : {}) }, () => work(this.connection));
  }

  /** Close the connection and the database; idempotent. Tables in an in-memory database are gone. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      this.connection.closeSync();
    } finally {
      this.instance.closeSync();
    }
  }

  private exclusive<T>(options: RunOptions, work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => this.guarded(options, work));
    // The queue continues whether this query succeeded or not.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async guarded<T>(options: RunOptions, work: () => Promise<T>): Promise<T> {
    if (this.isClosed) throw new Error('the data engine is closed');
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new QueryCancelled(signal.reason);
    let running = true;
    const onAbort = (): void => {
      if (running) this.connection.interrupt();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: ReturnType<typeof setInterval> | undefined;
    if (onProgress) {
      timer = setInterval(() => {
        if (!running || signal?.aborted) return;
        const p = this.connection.progress;
        onProgress({ fraction: p.percentage >= 0 ? Math.min(1, p.percentage / 100) : null });
      }, options.progressIntervalMs ?? 100);
    }
    try {
      const result = await work();
      // A query that finished just as the signal fired still counts as cancelled.
      if (signal?.aborted) throw new QueryCancelled(signal.reason);
      return result;
    } catch (e) {
      if (e instanceof QueryCancelled) throw e;
      if (signal?.aborted || isInterrupt(e)) throw new QueryCancelled(e);
      throw e;
    } finally {
      running = false;
      if (timer !== undefined) clearInterval(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
