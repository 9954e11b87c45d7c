// Shape 1: product events of a shopping app. Users (the privacy unit) with one or more devices open
// sessions; each session is a walk through page_view / search / add_to_cart / checkout / purchase.
// Heavy-tailed activity, a Zipf-like long tail of 60 countries and 50 app versions, weekly and
// daily seasonality in each country's local time, ~15% multi-device users, ~3% travellers seen in
// a second country, and a few bots with thousands of events: the reason contribution bounds exist.

import { makeRng } from '../../shared/core/rng';
import type { Rng } from '../../shared/core/rng';
import { DAY_MS, WINDOW_END_MS, WINDOW_START_MS, isoSeconds, makeSeasonality, sampleSeasonalTime } from './calendar';
import { bernoulli, exponential, hexId, logUniform, lognormal, makeCategorical, makeWeighted, uniform, zipfWeights } from './random';
import { checkGenerateOptions } from './shape';
import type { ColumnSpec, GenerateOptions, Shape } from './shape';

export const EVENT_TYPES = ['page_view', 'search', 'add_to_cart', 'checkout', 'purchase'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const PLATFORMS = ['ios', 'android', 'web'] as const;
export type Platform = (typeof PLATFORMS)[number];

export type ProductEvent = {
  event_id: number;
  ts: string;
  user_id: string;
  device_id: string;
  session_id: string;
  event_type: EventType;
  platform: Platform;
  app_version: string;
  country: string;
  campaign: string;
  revenue: number;
  item_count: number;
};


/** [code, UTC offset in hours, iOS share of mobile devices], most users first. */
export const COUNTRIES: readonly (readonly [string, number, number])[] = [
  ['US', -5, 0.55], ['IN', 5.5, 0.05], ['BR', -3, 0.15], ['GB', 0, 0.5], ['DE', 1, 0.35],
  ['ID', 7, 0.1], ['MX', -6, 0.2], ['FR', 1, 0.35], ['JP', 9, 0.65], ['CA', -5, 0.55],
  ['TR', 3, 0.2], ['PH', 8, 0.2], ['IT', 1, 0.3], ['ES', 1, 0.3], ['VN', 7, 0.2],
  ['KR', 9, 0.3], ['NG', 1, 0.1], ['PL', 1, 0.25], ['AU', 10, 0.55], ['EG', 2, 0.1],
  ['TH', 7, 0.3], ['AR', -3, 0.2], ['CO', -5, 0.2], ['PK', 5, 0.08], ['NL', 1, 0.45],
  ['SA', 3, 0.45], ['MY', 8, 0.3], ['ZA', 2, 0.2], ['BD', 6, 0.05], ['UA', 2, 0.25],
  ['RU', 3, 0.3], ['SE', 1, 0.5], ['CL', -4, 0.25], ['PE', -5, 0.15], ['BE', 1, 0.4],
  ['CH', 1, 0.55], ['AT', 1, 0.4], ['RO', 2, 0.25], ['CZ', 1, 0.3], ['PT', 0, 0.3],
  ['IL', 2, 0.45], ['AE', 4, 0.55], ['SG', 8, 0.55], ['HK', 8, 0.6], ['TW', 8, 0.5],
  ['NZ', 12, 0.5], ['IE', 0, 0.5], ['DK', 1, 0.5], ['NO', 1, 0.55], ['FI', 2, 0.4],
  ['GR', 2, 0.2], ['HU', 1, 0.25], ['KE', 3, 0.1], ['MA', 0, 0.15], ['DZ', 1, 0.1],
  ['EC', -5, 0.15], ['GT', -6, 0.15], ['LK', 5.5, 0.1], ['KZ', 5, 0.2], ['IS', 0, 0.5],
];
/** Zipf exponent of the country distribution (rank k has weight 1/k^s). */
export const COUNTRY_ZIPF_S = 1.1;

/** Mobile versions released before the window, newest first (44 of them). */
export const MOBILE_VERSIONS: readonly string[] = (() => {
  const out: string[] = [];
  const majors: [number, number, number][] = [[6, 2, 0], [5, 14, 0], [4, 9, 6]]; // [major, newest minor, oldest minor]
  for (const [major, hi, lo] of majors) {
    for (let minor = hi; minor >= lo; minor--) {
      const patches = 1 + ((major * 31 + minor * 7) % 3);
      for (let p = patches - 1; p >= 0; p--) out.push(`${major}.${minor}.${p}`);
    }
  }
  return out;
})();
const MOBILE_VERSION_RANGE = `"${MOBILE_VERSIONS[0]}" … "${MOBILE_VERSIONS[MOBILE_VERSIONS.length - 1]}" (${MOBILE_VERSIONS.length} versions)`;

export const PRODUCT_COLUMNS: readonly ColumnSpec<ProductEvent>[] = [
  { name: 'event_id', type: 'integer', description: 'row id, 1..N in file order' },
  { name: 'ts', type: 'timestamp', description: 'event time, ISO 8601 UTC with whole seconds (2024-09-02T00:00:00Z … 2024-09-29T23:59:59Z)' },
  { name: 'user_id', type: 'string', description: 'person (the privacy unit): "u" + 8 hex digits' },
  { name: 'device_id', type: 'string', description: 'device or browser: "d" + 8 hex digits; a user has 1–4 (the weaker device unit)' },
  { name: 'session_id', type: 'string', description: 'session: "s" + 8 hex digits; one device, one user' },
  { name: 'event_type', type: 'string', description: 'page_view | search | add_to_cart | checkout | purchase' },
  { name: 'platform', type: 'string', description: 'ios | android | web (of the device)' },
  { name: 'app_version', type: 'string', description: `mobile ${MOBILE_VERSION_RANGE} (6.3.0 and 6.3.1 released in the window); web "web-2024.36" … "web-2024.39" (weekly builds)` },
  { name: 'country', type: 'string', description: 'ISO 3166-1 alpha-2, 60 values, Zipf-like' },
  { name: 'campaign', type: 'string', description: 'marketing campaign of the session, "(none)" when organic; some names hold commas and quotes' },
  { name: 'revenue', type: 'float', description: 'order value in USD for purchase rows (>= 0, some 0); 0 otherwise' },
  { name: 'item_count', type: 'integer', description: 'add_to_cart: items added; checkout/purchase: items in the cart; 0 otherwise' },
];

/** Zipf exponent of a device's installed version over MOBILE_VERSIONS (newest is most common). */
export const VERSION_ZIPF_S = 1.3;
/** Releases inside the window: 6.3.0 on day 14 and the 6.3.1 hotfix on day 18, both at 16:00 UTC. */
export const RELEASE_630_MS = WINDOW_START_MS + 14 * DAY_MS + 16 * 3_600_000;
export const RELEASE_631_MS = WINDOW_START_MS + 18 * DAY_MS + 16 * 3_600_000;

/** Web builds are weekly: web-2024.<ISO week>, week 36 starting on 2024-09-02. */
export function webVersion(ms: number): string {
  return `web-2024.${36 + Math.floor((ms - WINDOW_START_MS) / (7 * DAY_MS))}`;
}

/** Campaign of a session; organic sessions say "(none)". Two names need CSV quoting. */
export const CAMPAIGNS: readonly (readonly [string, number])[] = [
  ['(none)', 0.72], ['google_ads', 0.07], ['newsletter_weekly', 0.05], ['Back to School, 2024', 0.045],
  ['tiktok_ads', 0.035], ['push_reengage', 0.03], ['Refer a friend "VIP"', 0.02], ['partner:acme', 0.015], ['affiliate/blog', 0.015],
];

/** Product seasonality in local time: weekends busier, an evening peak and a lunch bump. */
const SEASON = makeSeasonality([0.93, 0.9, 0.92, 0.96, 1.05, 1.2, 1.15], (h) => 0.12 + bump(h, 20.5, 2.8) + 0.55 * bump(h, 12.5, 1.8) + 0.25 * bump(h, 8, 1));

function bump(h: number, centre: number, sd: number): number {
  const d = Math.min(Math.abs(h - centre), 24 - Math.abs(h - centre));
  return Math.exp(-(d * d) / (2 * sd * sd));
}

/** Parameters of the model, exported so tests and the README can refer to them. */
export const PRODUCT_PARAMS = {
  /** Devices per user: P(1), P(2), P(3), P(4). */
  devicesPerUser: [0.85, 0.11, 0.03, 0.01],
  /** Platform of the first device: web share; mobile splits by the country's iOS share. */
  webShare: 0.18,
  /** Share of sessions on a secondary device, for multi-device users (after one session on each device). */
  secondaryDeviceSessionShare: 0.35,
  /** Share of users active from the start; the rest first appear uniformly in the window. */
  activeFromStart: 0.75,
  /** Share of users still active at the end; the rest stop uniformly in the window. */
  activeToEnd: 0.85,
  /** Sessions per 4 active weeks: lognormal(median, sigma), at least 1, at most 400. */
  sessionsMedian: 3.2,
  sessionsSigma: 1.05,
  /** Purchase intent multiplier of add_to_cart transitions: lognormal(1, 0.6), capped at 2.5. */
  intentSigma: 0.6,
  /** Users seen in a second country on a 1–6 day trip. */
  travellerShare: 0.03,
  /** Item price: max(1, round(lognormal(median 18, sigma 0.95))) - 0.01 USD. */
  priceMedian: 18,
  priceSigma: 0.95,
  /** Share of purchases with revenue 0 (free items, 100% vouchers). */
  zeroRevenueShare: 0.05,
  /** Bots: three at early positions (1000–2500 events each), then each user is a bot with this probability (1000–8000 events). */
  botRate: 0.0005,
} as const;

interface Device {
  readonly id: string;
  readonly platform: Platform;
  readonly baseVersion: string;
  readonly upgradeAt: number;
  readonly hotfixAt: number;
}

function versionAt(d: Device, t: number): string {
  if (d.platform === 'web') return webVersion(t);
  if (t >= d.hotfixAt) return '6.3.1';
  if (t >= d.upgradeAt) return '6.3.0';
  return d.baseVersion;
}

interface RawEvent {
  t: number;
  type: EventType;
  device: Device;
  session: string;
  country: string;
  campaign: string;
  revenue: number;
  items: number;
}

export type BotKind = 'crawler' | 'cart-bot';

export interface ProductSummary {
  readonly shape: 'product';
  readonly rows: number;
  readonly users: number;
  readonly devices: number;
  readonly sessions: number;
  /** Users whose emitted rows use 2 or more devices. */
  readonly multiDeviceUsers: number;
  /** Users whose emitted rows span 2 countries. */
  readonly travellers: number;
  readonly purchases: number;
  readonly bots: readonly { readonly user_id: string; readonly kind: BotKind; readonly events: number }[];
}

const STREAM_SETUP = 0;
const STREAM_USERS = 1;
const SHAPE_ID = 1;

const countryCat = makeCategorical(zipfWeights(COUNTRIES.length, COUNTRY_ZIPF_S));
const versionCat = makeCategorical(zipfWeights(MOBILE_VERSIONS.length, VERSION_ZIPF_S));
const devicesCat = makeCategorical(PRODUCT_PARAMS.devicesPerUser);
const secondaryPlatform = makeWeighted<Platform>([['ios', 0.35], ['android', 0.3], ['web', 0.35]]);
const campaign = makeWeighted(CAMPAIGNS);
const botCountry = makeWeighted([['US', 0.4], ['IE', 0.15], ['SG', 0.15], ['DE', 0.15], ['NL', 0.15]]);

class ProductModel {
  private deviceCounter = 0;
  private sessionCounter = 0;
  private readonly saltUser: number;
  private readonly saltDevice: number;
  private readonly saltSession: number;
  readonly botAnchors: ReadonlyMap<number, BotKind>;

  constructor(private readonly rng: Rng, setup: Rng) {
    this.saltUser = setup.nextUint32();
    this.saltDevice = setup.nextUint32();
    this.saltSession = setup.nextUint32();
    // Three bots early in the user order, so even the small committed files contain them.
    this.botAnchors = new Map<number, BotKind>([
      [10 + setup.nextBelow(300), 'crawler'],
      [320 + setup.nextBelow(380), 'cart-bot'],
      [720 + setup.nextBelow(380), 'crawler'],
    ]);
  }

  userId(u: number): string {
    return hexId('u', u, this.saltUser);
  }

  private newDevice(platform: Platform): Device {
    const rng = this.rng;
    const id = hexId('d', this.deviceCounter++, this.saltDevice);
    if (platform === 'web') return { id, platform, baseVersion: '', upgradeAt: Infinity, hotfixAt: Infinity };
    const vi = versionCat.sample(rng);
    const pUpgrade = vi < 6 ? 0.75 : vi < 20 ? 0.4 : 0.1;
    let upgradeAt = Infinity;
    let hotfixAt = Infinity;
    if (bernoulli(rng, pUpgrade)) {
      upgradeAt = RELEASE_630_MS + Math.round(exponential(rng, 2.5 * DAY_MS));
      hotfixAt = upgradeAt >= RELEASE_631_MS ? upgradeAt : RELEASE_631_MS + Math.round(exponential(rng, 1.5 * DAY_MS));
    }
    return { id, platform, baseVersion: MOBILE_VERSIONS[vi]!, upgradeAt, hotfixAt };
  }

  private newSession(): string {
    return hexId('s', this.sessionCounter++, this.saltSession);
  }

  /** All events of user u, in time order. */
  user(u: number): { events: RawEvent[]; bot: BotKind | null } {
    const rng = this.rng;
    const randomBot = rng.nextDouble() < PRODUCT_PARAMS.botRate;
    const anchor = this.botAnchors.get(u);
    if (anchor === undefined && !randomBot) return { events: this.human(), bot: null };
    const kind = anchor ?? (bernoulli(rng, 0.6) ? 'crawler' : 'cart-bot');
    return { events: this.bot(kind, anchor !== undefined), bot: kind };
  }

  private human(): RawEvent[] {
    const rng = this.rng;
    const P = PRODUCT_PARAMS;
    const [home, tz, iosShare] = COUNTRIES[countryCat.sample(rng)]!;
    const primary: Platform = bernoulli(rng, P.webShare) ? 'web' : bernoulli(rng, iosShare) ? 'ios' : 'android';
    const devices = [this.newDevice(primary)];
    const nDevices = 1 + devicesCat.sample(rng);
    for (let i = 1; i < nDevices; i++) devices.push(this.newDevice(secondaryPlatform.sample(rng)));

    const first = bernoulli(rng, P.activeFromStart) ? WINDOW_START_MS : WINDOW_START_MS + Math.floor(uniform(rng, 0, 27 * DAY_MS) / 1000) * 1000;
    const last = bernoulli(rng, P.activeToEnd) ? WINDOW_END_MS : Math.min(WINDOW_END_MS, first + DAY_MS + Math.floor(uniform(rng, 0, WINDOW_END_MS - first) / 1000) * 1000);
    const rate = lognormal(rng, P.sessionsMedian, P.sessionsSigma);
    // Every device of a user is seen: the first sessions go one to each device.
    const nSessions = Math.min(400, Math.max(devices.length, Math.round(rate * (last - first) / (28 * DAY_MS))));
    const intent = Math.min(2.5, lognormal(rng, 1, P.intentSigma));

    let tripCountry = '';
    let tripFrom = 0;
    let tripTo = 0;
    if (bernoulli(rng, P.travellerShare)) {
      let c = home;
      while (c === home) c = COUNTRIES[countryCat.sample(rng)]![0];
      tripCountry = c;
      tripFrom = uniform(rng, first, last);
      tripTo = tripFrom + (1 + rng.nextBelow(6)) * DAY_MS;
    }

    const events: RawEvent[] = [];
    for (let s = 0; s < nSessions; s++) {
      const start = sampleSeasonalTime(rng, first, last, tz, SEASON);
      const device = s < devices.length ? devices[s]!
        : devices.length > 1 && bernoulli(rng, P.secondaryDeviceSessionShare) ? devices[1 + rng.nextBelow(devices.length - 1)]! : devices[0]!;
      const country = tripCountry && start >= tripFrom && start < tripTo ? tripCountry : home;
      this.session(events, start, device, country, campaign.sample(rng), intent);
    }
    events.sort((a, b) => a.t - b.t);
    return events;
  }

  /** One session as a Markov walk over event types; appends to `out`; stops at the end of the window. */
  private session(out: RawEvent[], start: number, device: Device, country: string, camp: string, intent: number): void {
    const rng = this.rng;
    const session = this.newSession();
    let type: EventType = bernoulli(rng, 0.85) ? 'page_view' : 'search';
    let t = start;
    let cartItems = 0;
    let cartValue = 0;
    for (let k = 0; k < 150 && t < WINDOW_END_MS; k++) {
      let revenue = 0;
      let items = 0;
      if (type === 'add_to_cart') {
        const x = rng.nextDouble();
        items = x < 0.8 ? 1 : x < 0.93 ? 2 : 3 + rng.nextBelow(3);
        const price = Math.max(1, Math.round(lognormal(rng, PRODUCT_PARAMS.priceMedian, PRODUCT_PARAMS.priceSigma))) - 0.01;
        cartItems += items;
        cartValue += price * items;
      } else if (type === 'checkout') {
        items = cartItems;
      } else if (type === 'purchase') {
        items = cartItems;
        revenue = bernoulli(rng, PRODUCT_PARAMS.zeroRevenueShare) ? 0 : Math.round(cartValue * 100) / 100;
        cartItems = 0;
        cartValue = 0;
      }
      out.push({ t, type, device, session, country, campaign: camp, revenue, items });

      const [next, dwell] = transition(type, rng.nextDouble(), intent);
      if (next === null) break;
      type = next;
      t += (2 + Math.round(exponential(rng, dwell))) * 1000;
    }
  }

  /** A bot: one device, thousands of events within a day or two, around the clock. */
  private bot(kind: BotKind, anchor: boolean): RawEvent[] {
    const rng = this.rng;
    const n = Math.round(anchor ? logUniform(rng, 1000, 2500) : logUniform(rng, 1000, 8000));
    const country = botCountry.sample(rng);
    const device = this.newDevice(kind === 'crawler' ? 'web' : 'android');
    const meanGap = kind === 'crawler' ? 12 : 20;
    const start = WINDOW_START_MS + Math.floor(uniform(rng, 0, WINDOW_END_MS - WINDOW_START_MS - n * (meanGap + 2) * 1500) / 1000) * 1000;
    const events: RawEvent[] = [];
    let t = start;
    let session = this.newSession();
    let sessionLeft = 150 + rng.nextBelow(250);
    let cart = 0;
    for (let k = 0; k < n && t < WINDOW_END_MS; k++) {
      if (sessionLeft-- === 0) {
        session = this.newSession();
        sessionLeft = 150 + rng.nextBelow(250);
        cart = 0;
      }
      const x = rng.nextDouble();
      let type: EventType;
      let items = 0;
      if (kind === 'crawler') {
        type = x < 0.72 ? 'page_view' : 'search';
      } else if (x < 0.3) {
        type = 'page_view';
      } else if (x < 0.85) {
        type = 'add_to_cart';
        items = 1 + rng.nextBelow(5);
        cart += items;
      } else {
        type = 'checkout';
        items = cart;
      }
      events.push({ t, type, device, session, country, campaign: '(none)', revenue: 0, items });
      t += (1 + Math.round(exponential(rng, meanGap))) * 1000;
    }
    return events;
  }
}

/**
 * Next event type of a session walk (null ends the session) and the mean dwell in seconds before it.
 * `intent` (about 0.3 to 2.5) scales the add_to_cart transitions.
 */
export function transition(type: EventType, x: number, intent: number): [EventType | null, number] {
  switch (type) {
    case 'page_view':
      return [x < 0.55 ? 'page_view' : x < 0.72 ? 'search' : x < 0.72 + 0.08 * intent ? 'add_to_cart' : null, 30];
    case 'search':
      return [x < 0.55 ? 'page_view' : x < 0.69 ? 'search' : x < 0.69 + 0.07 * intent ? 'add_to_cart' : null, 15];
    case 'add_to_cart':
      return [x < 0.35 ? 'page_view' : x < 0.47 ? 'add_to_cart' : x < 0.8 ? 'checkout' : null, 20];
    case 'checkout':
      return [x < 0.74 ? 'purchase' : x < 0.86 ? 'page_view' : null, 45];
    case 'purchase':
      return [x < 0.25 ? 'page_view' : null, 20];
  }
}

/** Streams product events; see the module comment and PRODUCT_PARAMS for the model. */
export function generateProductEvents(opts: GenerateOptions, emit: (row: ProductEvent) => void): ProductSummary {
  checkGenerateOptions(opts);
  const model = new ProductModel(makeRng(opts.seed, STREAM_USERS), makeRng(opts.seed, STREAM_SETUP, SHAPE_ID));
  let row = 0;
  let users = 0;
  let devices = 0;
  let sessions = 0;
  let multiDeviceUsers = 0;
  let travellers = 0;
  let purchases = 0;
  const bots: { user_id: string; kind: BotKind; events: number }[] = [];
  for (let u = 0; row < opts.rows; u++) {
    const { events, bot } = model.user(u);
    if (events.length === 0) continue;
    const userId = model.userId(u);
    const seenDevices = new Set<string>();
    const seenSessions = new Set<string>();
    const seenCountries = new Set<string>();
    let emitted = 0;
    for (const e of events) {
      if (row >= opts.rows) break;
      row++;
      emitted++;
      seenDevices.add(e.device.id);
      seenSessions.add(e.session);
      seenCountries.add(e.country);
      if (e.type === 'purchase') purchases++;
      emit({
        event_id: row,
        ts: isoSeconds(e.t),
        user_id: userId,
        device_id: e.device.id,
        session_id: e.session,
        event_type: e.type,
        platform: e.device.platform,
        app_version: versionAt(e.device, e.t),
        country: e.country,
        campaign: e.campaign,
        revenue: e.revenue,
        item_count: e.items,
      });
    }
    users++;
    devices += seenDevices.size;
    sessions += seenSessions.size;
    if (seenDevices.size > 1) multiDeviceUsers++;
    if (seenCountries.size > 1) travellers++;
    if (bot) bots.push({ user_id: userId, kind: bot, events: emitted });
  }
  return { shape: 'product', rows: row, users, devices, sessions, multiDeviceUsers, travellers, purchases, bots };
}

export const productShape: Shape<ProductEvent, ProductSummary> = {
  name: 'product',
  description: 'product events of a shopping app (privacy unit user_id; device_id as the weaker unit)',
  columns: PRODUCT_COLUMNS,
  generate: generateProductEvents,
};
