import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCentralMetric, validateConfig } from '../../../shared/core/config';
import type { AnalysisConfig, Filter } from '../../../shared/core/config';
import {
  CAMPAIGNS, COMMITTED_FILES, COUNTRIES, EVENT_TYPES, FEATURES, MOBILE_VERSIONS, PLANS, PLATFORMS, PRODUCT_COLUMNS, REGIONS, SAAS_COLUMNS,
  WINDOW_END_MS, WINDOW_START_MS, csvField, generateProductEvents, generateSaasUsage, makeCsvFormatter, readCsvSql, writeSample,
} from '../../../sample-data/generator';
import type { ProductEvent, ProductSummary, SaasEvent, SaasSummary } from '../../../sample-data/generator';
import { parseArgs, parseRowCount, runCli } from '../../../sample-data/generator/cli';

const SAMPLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../sample-data');
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** RFC 4180 fields of one line (the samples have no line breaks inside fields). */
function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const j = line.indexOf('"', i);
        if (j < 0) throw new Error(`unterminated quote in ${line}`);
        v += line.slice(i, j);
        if (line[j + 1] === '"') {
          v += '"';
          i = j + 2;
        } else {
          i = j + 1;
          break;
        }
      }
      out.push(v);
    } else {
      const j = line.indexOf(',', i);
      out.push(line.slice(i, j < 0 ? line.length : j));
      i = j < 0 ? line.length : j;
    }
    if (i >= line.length) return out;
    if (line[i] !== ',') throw new Error(`bad CSV at ${i} in ${line}`);
    i++;
  }
}

/** Collects failed per-row checks (expect() per field of 50k rows is slow) and reports the first few. */
function rowChecker(): { check(ok: boolean, what: string, row: unknown): void; readonly problems: string[] } {
  const problems: string[] = [];
  return {
    problems,
    check(ok, what, row) {
      if (!ok && problems.length < 5) problems.push(`${what}: ${JSON.stringify(row)}`);
    },
  };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function countBy<T>(rows: readonly T[], key: (r: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  return m;
}

let tmp: string;
let db: DuckDBInstance;
let con: DuckDBConnection;
let product: ProductEvent[];
let productSummary: ProductSummary;
let saas: SaasEvent[];
let saasSummary: SaasSummary;

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return (await con.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dpw-sample-'));
  db = await DuckDBInstance.create(':memory:');
  con = await db.connect();
  await con.run("SET TimeZone = 'UTC'");
  product = [];
  productSummary = generateProductEvents({ rows: 50_000, seed: 1 }, (r) => product.push(r));
  saas = [];
  saasSummary = generateSaasUsage({ rows: 30_000, seed: 1 }, (r) => saas.push(r));
});

afterAll(() => {
  con?.closeSync();
  db?.closeSync();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('generator determinism', () => {
  it('writes the same bytes for the same seed and different bytes for another seed', async () => {
    for (const shape of ['product', 'saas'] as const) {
      const a = await writeSample({ shape, rows: 5_000, seed: 7, out: join(tmp, `${shape}-a.csv`) });
      const b = await writeSample({ shape, rows: 5_000, seed: 7, out: join(tmp, `${shape}-b.csv`) });
      const c = await writeSample({ shape, rows: 5_000, seed: 8, out: join(tmp, `${shape}-c.csv`) });
      const d = await writeSample({ shape, rows: 5_000, seed: 'seven', out: join(tmp, `${shape}-d.csv`) });
      expect(sha256(a.out)).toBe(sha256(b.out));
      expect(sha256(c.out)).not.toBe(sha256(a.out));
      expect(sha256(d.out)).not.toBe(sha256(a.out));
      expect(a.summary).toEqual(b.summary);
    }
  });

  it('emits exactly the requested rows, and N rows are a prefix of M > N rows', async () => {
    for (const shape of ['product', 'saas'] as const) {
      const small = await writeSample({ shape, rows: 1_234, seed: 3, out: join(tmp, `${shape}-small.csv`) });
      const big = await writeSample({ shape, rows: 4_321, seed: 3, out: join(tmp, `${shape}-big.csv`) });
      const s = readFileSync(small.out, 'utf8');
      const b = readFileSync(big.out, 'utf8');
      expect(s.split('\n').length - 2).toBe(1_234);
      expect(b.split('\n').length - 2).toBe(4_321);
      expect(b.startsWith(s)).toBe(true);
    }
  });

  it('rejects a row count that is not a positive integer', () => {
    expect(() => generateProductEvents({ rows: 0, seed: 1 }, () => {})).toThrow(/rows \(0\) must be a positive integer/);
    expect(() => generateSaasUsage({ rows: 1.5, seed: 1 }, () => {})).toThrow(RangeError);
  });
});

describe('CSV writing', () => {
  it('quotes fields with commas, quotes, line breaks, edge spaces or nothing, and only those', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('Back to School, 2024')).toBe('"Back to School, 2024"');
    expect(csvField('Refer a friend "VIP"')).toBe('"Refer a friend ""VIP"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('')).toBe('""');
    expect(csvField(12.5)).toBe('12.5');
    expect(() => csvField(NaN)).toThrow(RangeError);
    const f = makeCsvFormatter(['a', 'b']);
    expect(f.header).toBe('a,b\n');
    expect(f.line({ a: 'x,y', b: 0 })).toBe('"x,y",0\n');
  });

  it('round-trips every product row through the CSV file, quoted campaigns included', async () => {
    const out = join(tmp, 'roundtrip.csv');
    await writeSample({ shape: 'product', rows: 50_000, seed: 1, out });
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(parseCsvLine(lines[0]!)).toEqual(PRODUCT_COLUMNS.map((c) => c.name));
    expect(lines.length - 1).toBe(product.length);
    const quoted = new Set<string>();
    const { check, problems } = rowChecker();
    lines.slice(1).forEach((line, i) => {
      const fields = parseCsvLine(line);
      const row = product[i]!;
      check(fields.length === PRODUCT_COLUMNS.length && PRODUCT_COLUMNS.every((c, j) => fields[j] === String(row[c.name])), `line ${i + 2} ${line}`, row);
      if (line.includes('"')) quoted.add(fields[9]!);
    });
    expect(problems).toEqual([]);
    expect([...quoted].sort()).toEqual(['Back to School, 2024', 'Refer a friend "VIP"']);
  });
});

describe('product events: schema and value ranges', () => {
  it('has every column with values in range', () => {
    const countries = new Set(COUNTRIES.map((c) => c[0]));
    const campaigns = new Set(CAMPAIGNS.map((c) => c[0]));
    const versions = new Set(MOBILE_VERSIONS);
    const { check, problems } = rowChecker();
    const names = PRODUCT_COLUMNS.map((c) => c.name).join();
    product.forEach((r, i) => {
      check(Object.keys(r).join() === names, 'columns', r);
      check(r.event_id === i + 1, 'event_id', r);
      const t = Date.parse(r.ts);
      check(/^2024-09-\d\dT\d\d:\d\d:\d\dZ$/.test(r.ts) && t >= WINDOW_START_MS && t < WINDOW_END_MS, 'ts', r);
      check(/^u[0-9a-f]{8}$/.test(r.user_id) && /^d[0-9a-f]{8}$/.test(r.device_id) && /^s[0-9a-f]{8}$/.test(r.session_id), 'ids', r);
      check((EVENT_TYPES as readonly string[]).includes(r.event_type), 'event_type', r);
      check((PLATFORMS as readonly string[]).includes(r.platform), 'platform', r);
      check(r.platform === 'web' ? /^web-2024\.(36|37|38|39)$/.test(r.app_version) : versions.has(r.app_version) || r.app_version === '6.3.0' || r.app_version === '6.3.1', 'app_version', r);
      check(countries.has(r.country), 'country', r);
      check(campaigns.has(r.campaign), 'campaign', r);
      check(Number.isFinite(r.revenue) && r.revenue >= 0 && Math.round(r.revenue * 100) / 100 === r.revenue, 'revenue', r);
      check(r.event_type === 'purchase' || r.revenue === 0, 'revenue only on purchases', r);
      check(Number.isInteger(r.item_count) && r.item_count >= 0, 'item_count', r);
      check((r.event_type !== 'page_view' && r.event_type !== 'search') || r.item_count === 0, 'no items on views', r);
      check((r.event_type !== 'add_to_cart' && r.event_type !== 'purchase') || r.item_count > 0, 'items on carts and purchases', r);
    });
    expect(problems).toEqual([]);
  });

  it('keeps ids consistent: a device and a session belong to one user, a session to one device', () => {
    const deviceUser = new Map<string, string>();
    const sessionDevice = new Map<string, string>();
    const users = new Set<string>();
    const { check, problems } = rowChecker();
    for (const r of product) {
      users.add(r.user_id);
      check((deviceUser.get(r.device_id) ?? r.user_id) === r.user_id, 'device of another user', r);
      deviceUser.set(r.device_id, r.user_id);
      check((sessionDevice.get(r.session_id) ?? r.device_id) === r.device_id, 'session on another device', r);
      sessionDevice.set(r.session_id, r.device_id);
    }
    expect(problems).toEqual([]);
    expect([...users].some((u) => deviceUser.has(u))).toBe(false);
    // A device keeps its platform.
    const platforms = countBy(product, (r) => `${r.device_id} ${r.platform}`);
    expect(platforms.size).toBe(deviceUser.size);
    expect(productSummary).toMatchObject({ rows: 50_000, users: users.size, devices: deviceUser.size, sessions: sessionDevice.size });
  });

  it('spans 28 days of 2024-09-02 … 2024-09-29 with weekly seasonality (weekends busier)', () => {
    const bots = new Set(productSummary.bots.map((b) => b.user_id));
    const days = countBy(product.filter((r) => !bots.has(r.user_id)), (r) => r.ts.slice(0, 10));
    expect(days.size).toBe(28);
    expect([...days.keys()].sort()[0]).toBe('2024-09-02');
    expect([...days.keys()].sort()[27]).toBe('2024-09-29');
    let weekend = 0;
    let weekday = 0;
    for (const [d, n] of days) {
      const dow = new Date(`${d}T12:00:00Z`).getUTCDay();
      if (dow === 0 || dow === 6) weekend += n / 8;
      else weekday += n / 20;
    }
    expect(weekend / weekday).toBeGreaterThan(1.05);
  });

  it('has a Zipf-like long tail of countries and app versions', () => {
    const userCountry = new Map(product.map((r) => [r.user_id, r.country]));
    const users = [...countBy([...userCountry.values()], (c) => c).values()].sort((a, b) => b - a);
    const total = users.reduce((s, n) => s + n, 0);
    expect(users[0]! / total).toBeGreaterThan(0.18);
    expect(users[0]! / total).toBeLessThan(0.35);
    expect(users.slice(0, 5).reduce((s, n) => s + n, 0) / total).toBeGreaterThan(0.45);
    expect(new Set(product.map((r) => r.country)).size).toBeGreaterThanOrEqual(50);
    // A long tail of small countries: what partition selection has to drop or keep.
    expect(users.filter((n) => n < 10).length).toBeGreaterThanOrEqual(15);
    expect(new Set(product.map((r) => r.app_version)).size).toBeGreaterThanOrEqual(35);
  });

  it('has about 15% multi-device users, all three platforms and some travellers', () => {
    const devices = new Map<string, Set<string>>();
    for (const r of product) (devices.get(r.user_id) ?? devices.set(r.user_id, new Set()).get(r.user_id)!).add(r.device_id);
    const multi = [...devices.values()].filter((s) => s.size > 1).length;
    expect(multi).toBe(productSummary.multiDeviceUsers);
    expect(multi / devices.size).toBeGreaterThan(0.1);
    expect(multi / devices.size).toBeLessThan(0.22);
    expect(Math.max(...[...devices.values()].map((s) => s.size))).toBeGreaterThanOrEqual(3);
    expect(new Set(product.map((r) => r.platform))).toEqual(new Set(PLATFORMS));
    expect(productSummary.travellers).toBeGreaterThan(5);
  });

  it('has heavy-tailed activity and a few bots with thousands of events', () => {
    const perUser = [...countBy(product, (r) => r.user_id).values()].sort((a, b) => a - b);
    expect(quantile(perUser, 0.5)).toBeLessThan(30);
    expect(quantile(perUser, 0.99)).toBeGreaterThan(5 * quantile(perUser, 0.5));
    expect(productSummary.bots.length).toBeGreaterThanOrEqual(3);
    const heavy = productSummary.bots.filter((b) => b.events >= 1000);
    expect(heavy.length).toBeGreaterThanOrEqual(3);
    expect(new Set(heavy.map((b) => b.kind))).toEqual(new Set(['crawler', 'cart-bot']));
    const counts = countBy(product, (r) => r.user_id);
    for (const b of productSummary.bots) expect(counts.get(b.user_id)).toBe(b.events);
    // Bots are the users above 1000 events, and they crowd single days (why L∞ bounds matter).
    expect([...counts.values()].filter((n) => n >= 1000).length).toBe(heavy.length);
    const perUserDay = Math.max(...countBy(product, (r) => `${r.user_id} ${r.ts.slice(0, 10)}`).values());
    expect(perUserDay).toBeGreaterThan(500);
  });

  it('has purchases with heavy-tailed revenue, some of it zero, and a plausible funnel', () => {
    const purchases = product.filter((r) => r.event_type === 'purchase');
    expect(purchases.length).toBe(productSummary.purchases);
    const zero = purchases.filter((r) => r.revenue === 0).length / purchases.length;
    expect(zero).toBeGreaterThan(0.02);
    expect(zero).toBeLessThan(0.1);
    const rev = purchases.map((r) => r.revenue).filter((v) => v > 0).sort((a, b) => a - b);
    expect(quantile(rev, 0.99) / quantile(rev, 0.5)).toBeGreaterThan(4);
    const types = countBy(product, (r) => r.event_type);
    expect(types.get('page_view')!).toBeGreaterThan(types.get('search')!);
    expect(types.get('search')!).toBeGreaterThan(types.get('add_to_cart')!);
    expect(types.get('add_to_cart')!).toBeGreaterThan(types.get('checkout')!);
    expect(types.get('checkout')!).toBeGreaterThan(types.get('purchase')!);
  });
});

describe('SaaS usage: schema and value ranges', () => {
  it('has every column with values in range and plan-gated features', () => {
    const regions = new Set(REGIONS.map((r) => r[0]));
    const feature = new Map(FEATURES.map((f) => [f[0], f]));
    const rank = { free: 0, team: 1, enterprise: 2 } as const;
    const { check, problems } = rowChecker();
    const names = SAAS_COLUMNS.map((c) => c.name).join();
    saas.forEach((r, i) => {
      check(Object.keys(r).join() === names, 'columns', r);
      check(r.event_id === i + 1, 'event_id', r);
      const t = Date.parse(r.ts);
      check(/^2024-09-\d\dT\d\d:\d\d:\d\dZ$/.test(r.ts) && t >= WINDOW_START_MS && t < WINDOW_END_MS, 'ts', r);
      check(/^w[0-9a-f]{8}$/.test(r.workspace_id) && /^u[0-9a-f]{8}$/.test(r.user_id), 'ids', r);
      check((PLANS as readonly string[]).includes(r.plan), 'plan', r);
      check(regions.has(r.region), 'region', r);
      check(['web', 'desktop', 'api'].includes(r.client), 'client', r);
      const f = feature.get(r.feature);
      check(f !== undefined && rank[f[1]] <= rank[r.plan], 'feature available on the plan', r);
      check(f !== undefined && f[3].some((a) => a[0] === r.action), 'action of the feature', r);
      check(Number.isInteger(r.duration_ms) && r.duration_ms >= 1, 'duration_ms', r);
      check(Number.isInteger(r.seats) && r.seats >= 1, 'seats', r);
      check(r.plan !== 'free' || r.seats <= 5, 'free seats', r);
      check(r.plan !== 'enterprise' || r.seats >= 25, 'enterprise seats', r);
    });
    expect(problems).toEqual([]);
  });

  it('has heavy-tailed workspaces, service accounts, consultants and upgrades', () => {
    const members = new Map<string, Set<string>>();
    for (const r of saas) (members.get(r.workspace_id) ?? members.set(r.workspace_id, new Set()).get(r.workspace_id)!).add(r.user_id);
    expect(members.size).toBe(saasSummary.workspaces);
    expect(members.size).toBeGreaterThan(400);
    const sizes = [...members.values()].map((s) => s.size).sort((a, b) => a - b);
    expect(sizes[sizes.length - 1]! / quantile(sizes, 0.5)).toBeGreaterThan(20);
    const rows = [...countBy(saas, (r) => r.workspace_id).values()].sort((a, b) => a - b);
    expect(rows[rows.length - 1]! / quantile(rows, 0.5)).toBeGreaterThan(50);
    const plans = countBy(saas, (r) => r.plan);
    expect(new Set(plans.keys())).toEqual(new Set(PLANS));
    expect(saasSummary.serviceAccounts.length).toBeGreaterThanOrEqual(3);
    for (const s of saasSummary.serviceAccounts) expect(saas.filter((r) => r.user_id === s.user_id).every((r) => r.client === 'api' && r.workspace_id === s.workspace_id)).toBe(true);
    const workspacesOf = new Map<string, Set<string>>();
    for (const r of saas) (workspacesOf.get(r.user_id) ?? workspacesOf.set(r.user_id, new Set()).get(r.user_id)!).add(r.workspace_id);
    expect(workspacesOf.size).toBe(saasSummary.users);
    expect([...workspacesOf.values()].filter((s) => s.size > 1).length).toBe(saasSummary.consultantsInSeveralWorkspaces);
    expect(saasSummary.consultantsInSeveralWorkspaces).toBeGreaterThan(0);
    const planOf = new Map<string, Set<string>>();
    for (const r of saas) (planOf.get(r.workspace_id) ?? planOf.set(r.workspace_id, new Set()).get(r.workspace_id)!).add(r.plan);
    expect([...planOf.values()].filter((s) => s.size > 1).length).toBe(saasSummary.upgrades);
    expect(saasSummary.upgrades).toBeGreaterThan(0);
  });

  it('is busy on weekdays and quiet on weekends, over 28 days', () => {
    const days = countBy(saas.filter((r) => r.client !== 'api'), (r) => r.ts.slice(0, 10));
    expect(days.size).toBe(28);
    let weekend = 0;
    let weekday = 0;
    for (const [d, n] of days) {
      const dow = new Date(`${d}T12:00:00Z`).getUTCDay();
      if (dow === 0 || dow === 6) weekend += n / 8;
      else weekday += n / 20;
    }
    expect(weekday / weekend).toBeGreaterThan(2.5);
  });
});

describe('committed sample files', () => {
  it('are listed in the README with rows and SHA-256, and total under 10 MB', () => {
    const readme = readFileSync(join(SAMPLE_DIR, 'README.md'), 'utf8');
    let bytes = 0;
    for (const f of COMMITTED_FILES) {
      const path = join(SAMPLE_DIR, f.file);
      expect(existsSync(path), f.file).toBe(true);
      bytes += readFileSync(path).length;
      expect(readme).toContain(f.file);
      if (f.format !== 'parquet') expect(readme, `README gives the sha256 of ${f.file}`).toContain(sha256(path));
    }
    expect(bytes).toBeLessThan(10e6);
  });

  it('match the generator output for their documented seed (text byte for byte, Parquet by content)', async () => {
    const dir = join(tmp, 'committed');
    for (const f of COMMITTED_FILES) {
      const r = await writeSample({ shape: f.shape, rows: f.rows, seed: f.seed, format: f.format, out: join(dir, f.file) });
      expect(r.rows).toBe(f.rows);
      const committed = join(SAMPLE_DIR, f.file);
      if (f.format !== 'parquet') {
        expect(sha256(r.out), f.file).toBe(sha256(committed));
        continue;
      }
      const csv = COMMITTED_FILES.find((c) => c.format === 'csv' && c.shape === f.shape && c.rows === f.rows && c.seed === f.seed)!;
      const fromCsv = readCsvSql(f.shape, join(SAMPLE_DIR, csv.file));
      const pq = `read_parquet('${committed.replace(/'/g, "''")}')`;
      const [diff] = await query(`SELECT (SELECT count(*) FROM ${pq}) AS n,
        (SELECT count(*) FROM (SELECT * FROM ${pq} EXCEPT ALL SELECT * FROM ${fromCsv})) AS a,
        (SELECT count(*) FROM (SELECT * FROM ${fromCsv} EXCEPT ALL SELECT * FROM ${pq})) AS b`);
      expect(diff).toEqual({ n: BigInt(f.rows), a: 0n, b: 0n });
      const types = await query(`DESCRIBE SELECT * FROM ${pq}`);
      expect(types.map((t) => [t.column_name, t.column_type])).toEqual(PRODUCT_COLUMNS.map((c) => [c.name,
        { string: 'VARCHAR', integer: 'BIGINT', float: 'DOUBLE', timestamp: 'TIMESTAMP WITH TIME ZONE' }[c.type]]));
    }
  });

  it('has an NDJSON file that is the head of the product CSV', () => {
    const head = COMMITTED_FILES.find((f) => f.format === 'ndjson')!;
    const rows = readFileSync(join(SAMPLE_DIR, head.file), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as ProductEvent);
    expect(rows).toEqual(product.slice(0, head.rows));
  });
});

describe('example analysis configs', () => {
  const configDir = join(SAMPLE_DIR, 'configs');
  const files = readdirSync(configDir).filter((f) => f.endsWith('.json')).sort();

  it('exist for the product (user and device unit) and SaaS samples', () => {
    expect(files).toEqual(['product-device.json', 'product-pilot.json', 'saas-pilot.json']);
  });

  function reader(cfg: AnalysisConfig, path: string): string {
    const p = `'${path.replace(/'/g, "''")}'`;
    const format = cfg.dataset.format ?? (path.endsWith('.parquet') ? 'parquet' : path.endsWith('.csv') ? 'csv' : 'ndjson');
    return format === 'parquet' ? `read_parquet(${p})` : format === 'csv' ? `read_csv(${p}, header = true)` : `read_json(${p})`;
  }

  function literal(v: string | number | boolean): string {
    return typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v);
  }

  for (const file of files) {
    it(`${file} validates, points at a sample file and refers only to its columns and values`, async () => {
      const r = validateConfig(JSON.parse(readFileSync(join(configDir, file), 'utf8')));
      if (!r.ok) throw new Error(`${file}: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
      const cfg = r.config;
      const data = resolve(configDir, cfg.dataset.path);
      expect(existsSync(data), data).toBe(true);
      const from = reader(cfg, data);
      const schema = new Map((await query(`DESCRIBE SELECT * FROM ${from}`)).map((c) => [c.column_name as string, c.column_type as string]));

      const filters: Filter[] = [];
      const numeric: string[] = [];
      for (const m of cfg.metrics) {
        filters.push(...m.filter);
        if (m.kind === 'sum' || m.kind === 'mean') numeric.push(m.column);
        if (m.kind === 'conversion') filters.push(...m.from, ...m.to);
        if (m.kind === 'funnel') filters.push(...m.steps.flat());
      }
      const columns = [cfg.privacyUnit.column, ...cfg.dimensions.map((d) => d.column), ...numeric, ...filters.map((f) => f.column)];
      for (const c of columns) expect(schema.has(c), `${file}: column ${c}`).toBe(true);
      for (const c of numeric) expect(['BIGINT', 'DOUBLE', 'INTEGER'], `${file}: ${c} is numeric`).toContain(schema.get(c));
      for (const [c, t] of Object.entries(cfg.dataset.columns ?? {})) {
        expect(schema.get(c), `${file}: column ${c}`).toBeDefined();
        if (t === 'timestamp') expect(schema.get(c)).toMatch(/^TIMESTAMP/);
      }

      for (const f of filters) {
        if (f.op !== '=' && f.op !== 'in') continue;
        for (const v of Array.isArray(f.value) ? f.value : [f.value]) {
          const [{ n }] = (await query(`SELECT count(*) AS n FROM ${from} WHERE "${f.column}" = ${literal(v)}`)) as [{ n: bigint }];
          expect(n, `${file}: some rows have ${f.column} = ${v}`).toBeGreaterThan(0n);
        }
      }

      for (const d of cfg.dimensions) {
        if (!d.publicValues) continue;
        const key = d.bucket ? `strftime(date_trunc('${d.bucket}', "${d.column}"), '%Y-%m-%d')` : `"${d.column}"`;
        const keys = (await query(`SELECT DISTINCT ${key} AS k FROM ${from}`)).map((x) => x.k);
        expect(new Set(keys), `${file}: dimension ${d.name} is covered by its public list`).toEqual(new Set(d.publicValues));
      }
      const shares = cfg.metrics.filter(isCentralMetric).filter((m) => m.kind !== 'ratio').reduce((s, m) => s + m.privacy.budgetShare, 0);
      expect(shares).toBeLessThanOrEqual(1 + 1e-9);
      for (const m of cfg.metrics.filter(isCentralMetric)) if (m.kind !== 'ratio') expect(m.privacy.boundProvenance, `${file}: ${m.id}`).toBeDefined();
    });
  }
});

describe('sample-data CLI', () => {
  it('parses row counts with k/M suffixes and exponents', () => {
    expect(parseRowCount('50000')).toBe(50_000);
    expect(parseRowCount('50k')).toBe(50_000);
    expect(parseRowCount('1M')).toBe(1_000_000);
    expect(parseRowCount('10m')).toBe(10_000_000);
    expect(parseRowCount('1e6')).toBe(1_000_000);
    expect(parseRowCount('1_000')).toBe(1_000);
    for (const bad of ['0', '-5', '1.5', 'lots', '']) expect(() => parseRowCount(bad)).toThrow(/--rows/);
  });

  it('defaults the output to sample-data/generated/ and reads the format from the extension', () => {
    const a = parseArgs(['--shape', 'product', '--rows', '1M']);
    expect(a).toMatchObject({ mode: 'one', shape: 'product', rows: 1_000_000, format: 'csv', seed: 1 });
    expect(a.out).toBe(join(SAMPLE_DIR, 'generated', 'product-1m.csv'));
    expect(parseArgs(['--shape=saas', '--rows=10M', '--format', 'parquet', '--seed', '42']).out).toBe(join(SAMPLE_DIR, 'generated', 'saas-10m-seed-42.parquet'));
    expect(parseArgs(['--shape', 'saas', '--rows', '5', '--out', 'x.ndjson'])).toMatchObject({ format: 'ndjson', out: 'x.ndjson' });
    expect(parseArgs(['--shape', 'saas', '--rows', '5', '--seed', 'pilot-a']).seed).toBe('pilot-a');
  });

  it('exits 2 with one line naming the bad flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--rows', '10'], /--shape is required/],
      [['--shape', 'crm', '--rows', '10'], /--shape "crm": expected product or saas/],
      [['--shape', 'saas'], /--rows is required/],
      [['--shape', 'saas', '--rows', 'ten'], /--rows "ten"/],
      [['--shape', 'saas', '--rows', '10', '--format', 'xlsx'], /--format "xlsx"/],
      [['--shape', 'saas', '--rows', '10', '--out', 'a.txt'], /--out "a.txt"/],
      [['--shape', 'saas', '--rows', '10', '--out', 'a.csv', '--format', 'parquet'], /does not match --format parquet/],
      [['--shape', 'saas', '--rows', '10', '--bogus'], /unknown argument "--bogus"/],
      [['--committed', '--rows', '10'], /--rows cannot be used with --committed/],
    ];
    for (const [argv, msg] of cases) {
      const out: string[] = [];
      const err: string[] = [];
      expect(await runCli(argv, (s) => out.push(s), (s) => err.push(s), tmp)).toBe(2);
      expect(out).toEqual([]);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(/^sample-data: /);
      expect(err[0]).toMatch(msg);
    }
  });

  it('writes a file and prints its rows, size and rows/s', async () => {
    const out: string[] = [];
    expect(await runCli(['--shape', 'saas', '--rows', '2k', '--out', 'cli/saas.ndjson'], (s) => out.push(s), () => {}, tmp)).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^saas: 2,000 rows → cli\/saas\.ndjson \(\d+\.\d\d MB\) in \d+\.\d\d s, [\d,]+ rows\/s$/);
    expect(readFileSync(join(tmp, 'cli/saas.ndjson'), 'utf8').trimEnd().split('\n')).toHaveLength(2_000);
    expect(existsSync(join(tmp, 'cli/saas.ndjson.partial'))).toBe(false);
  });
});
