// Shape 2: B2B SaaS feature usage by workspace. Workspaces (the privacy unit; user_id within a
// workspace is the finer one) on a free / team / enterprise plan with heavy-tailed seat counts;
// their members use plan-gated features in working-hours sessions in the region's local time.
// Outliers: API service accounts (hundreds to thousands of regular calls), consultants who belong
// to several workspaces, and a few free workspaces that upgrade to team during the window.

import { makeRng } from '../../shared/core/rng';
import type { Rng } from '../../shared/core/rng';
import { DAY_MS, WINDOW_END_MS, WINDOW_START_MS, isoSeconds, makeSeasonality, sampleSeasonalTime } from './calendar';
import { bernoulli, exponential, geometric, hexId, logUniform, lognormal, makeCategorical, makeWeighted, uniform } from './random';
import { checkGenerateOptions } from './shape';
import type { ColumnSpec, GenerateOptions, Shape } from './shape';

export const PLANS = ['free', 'team', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

export type SaasEvent = {
  event_id: number;
  ts: string;
  workspace_id: string;
  user_id: string;
  plan: Plan;
  seats: number;
  region: string;
  client: string;
  feature: string;
  action: string;
  duration_ms: number;
};

export const SAAS_COLUMNS: readonly ColumnSpec<SaasEvent>[] = [
  { name: 'event_id', type: 'integer', description: 'row id, 1..N in file order' },
  { name: 'ts', type: 'timestamp', description: 'event time, ISO 8601 UTC with whole seconds, 2024-09-02 … 2024-09-29' },
  { name: 'workspace_id', type: 'string', description: 'customer workspace (the privacy unit): "w" + 8 hex digits' },
  { name: 'user_id', type: 'string', description: 'member: "u" + 8 hex digits; consultants appear in several workspaces' },
  { name: 'plan', type: 'string', description: 'free | team | enterprise, at the time of the event (some free workspaces upgrade)' },
  { name: 'seats', type: 'integer', description: 'paid or allotted seats of the workspace at the time of the event' },
  { name: 'region', type: 'string', description: 'data region of the workspace, 9 values' },
  { name: 'client', type: 'string', description: 'web | desktop | api' },
  { name: 'feature', type: 'string', description: '13 features; integrations, automation, api, ai_assistant need team; sso, audit_log enterprise' },
  { name: 'action', type: 'string', description: 'what was done with the feature (view, create, edit, run, call, …)' },
  { name: 'duration_ms', type: 'integer', description: 'time the action took, milliseconds, lognormal per action' },
];

/** [region, UTC offset in hours, weight]. */
export const REGIONS: readonly (readonly [string, number, number])[] = [
  ['us-east', -5, 0.3], ['eu-west', 0, 0.17], ['us-west', -8, 0.14], ['eu-central', 1, 0.14], ['ap-southeast', 8, 0.07],
  ['ap-south', 5.5, 0.06], ['ap-northeast', 9, 0.05], ['sa-east', -3, 0.04], ['ca-central', -5, 0.03],
];

/** Feature → [least plan, weight, [action, weight][]]. */
export const FEATURES: readonly (readonly [string, Plan, number, readonly (readonly [string, number])[]])[] = [
  ['dashboard', 'free', 0.22, [['view', 0.8], ['edit', 0.15], ['share', 0.05]]],
  ['editor', 'free', 0.2, [['edit', 0.7], ['create', 0.2], ['delete', 0.1]]],
  ['search', 'free', 0.12, [['query', 1]]],
  ['reports', 'free', 0.1, [['view', 0.6], ['create', 0.15], ['edit', 0.15], ['export', 0.1]]],
  ['comments', 'free', 0.08, [['create', 0.6], ['edit', 0.2], ['delete', 0.2]]],
  ['admin', 'free', 0.02, [['invite', 0.5], ['remove', 0.2], ['change_role', 0.3]]],
  ['billing', 'free', 0.01, [['view', 0.8], ['update', 0.2]]],
  ['integrations', 'team', 0.04, [['view', 0.5], ['connect', 0.3], ['disconnect', 0.2]]],
  ['automation', 'team', 0.06, [['run', 0.7], ['create', 0.2], ['edit', 0.1]]],
  ['api', 'team', 0.03, [['call', 1]]],
  ['ai_assistant', 'team', 0.07, [['prompt', 0.9], ['feedback', 0.1]]],
  ['sso', 'enterprise', 0.03, [['login', 1]]],
  ['audit_log', 'enterprise', 0.02, [['view', 0.8], ['export', 0.2]]],
];

/** Median duration of each action in ms (lognormal, sigma 0.9). */
export const ACTION_MEDIAN_MS: Readonly<Record<string, number>> = {
  view: 8000, edit: 45000, create: 30000, delete: 1500, share: 3000, export: 6000, query: 900, connect: 12000, disconnect: 2000,
  run: 4000, call: 150, prompt: 7000, feedback: 1200, login: 2500, invite: 5000, remove: 1500, change_role: 2000, update: 9000,
};

export const SAAS_PARAMS = {
  plans: [['free', 0.68], ['team', 0.28], ['enterprise', 0.04]] as const,
  /** free: 1 + geometric(0.55), at most 5; team: lognormal(7, 0.75) in [2, 250]; enterprise: lognormal(60, 0.9) in [25, 4000]. */
  teamSeatsMedian: 7,
  enterpriseSeatsMedian: 60,
  /** Share of seats active in the window: uniform. */
  activeSeatShare: [0.35, 0.9],
  /** Sessions per user per 4 weeks: lognormal(median, sigma), at least 1; events per session 1 + geometric (mean 2.5). */
  sessionsMedian: 2,
  sessionsSigma: 1,
  /** Team/enterprise workspaces with an API service account (200–2000 calls, log-uniform, at a fixed period). */
  serviceAccountShare: 0.05,
  /** Team/enterprise workspaces with a consultant, drawn from 6 shared per block of 40 workspaces. */
  consultantShare: 0.25,
  /** Free workspaces that upgrade to team during the window. */
  upgradeShare: 0.05,
  /** Workspaces created during the window (first active uniformly in it). */
  newWorkspaceShare: 0.15,
} as const;

const SEASON = makeSeasonality([1, 1.05, 1.05, 1, 0.85, 0.2, 0.15], (h) => 0.04 + bump(h, 13, 3));

function bump(h: number, centre: number, sd: number): number {
  const d = Math.min(Math.abs(h - centre), 24 - Math.abs(h - centre));
  return Math.exp(-(d * d) / (2 * sd * sd));
}

const PLAN_RANK: Record<Plan, number> = { free: 0, team: 1, enterprise: 2 };
const planPick = makeWeighted<Plan>(SAAS_PARAMS.plans);
const regionCat = makeCategorical(REGIONS.map((r) => r[2]));
const actionPick = FEATURES.map((f) => makeWeighted(f[3]));
const featureCat: Record<Plan, { cat: ReturnType<typeof makeCategorical>; index: number[] }> = (() => {
  const out = {} as Record<Plan, { cat: ReturnType<typeof makeCategorical>; index: number[] }>;
  for (const plan of ['free', 'team', 'enterprise'] as const) {
    const index = FEATURES.map((_, i) => i).filter((i) => PLAN_RANK[FEATURES[i]![1]] <= PLAN_RANK[plan]);
    out[plan] = { cat: makeCategorical(index.map((i) => FEATURES[i]![2])), index };
  }
  return out;
})();

export interface SaasSummary {
  readonly shape: 'saas';
  readonly rows: number;
  readonly workspaces: number;
  readonly users: number;
  readonly byPlan: Readonly<Record<Plan, number>>;
  /** Workspaces whose emitted rows show a plan change (rows on free, then on team). */
  readonly upgrades: number;
  readonly serviceAccounts: readonly { readonly workspace_id: string; readonly user_id: string; readonly events: number }[];
  /** Users seen in 2 or more workspaces. */
  readonly consultantsInSeveralWorkspaces: number;
}

interface RawEvent {
  t: number;
  user: string;
  feature: number;
  action: string;
  client: string;
  duration: number;
}

const STREAM_SETUP = 0;
const STREAM_WORKSPACES = 2;
const SHAPE_ID = 2;
const CONSULTANT_BLOCK = 40;
const CONSULTANTS_PER_BLOCK = 6;

class SaasModel {
  private userCounter = 0;
  private readonly saltWs: number;
  private readonly saltUser: number;

  constructor(private readonly rng: Rng, setup: Rng) {
    this.saltWs = setup.nextUint32();
    this.saltUser = setup.nextUint32();
  }

  workspace(w: number) {
    const rng = this.rng;
    const P = SAAS_PARAMS;
    const id = hexId('w', w, this.saltWs);
    const startPlan = planPick.sample(rng);
    const [region, tz] = REGIONS[regionCat.sample(rng)]!;
    const seats = startPlan === 'free' ? Math.min(5, 1 + geometric(rng, 0.55))
      : startPlan === 'team' ? Math.min(250, Math.max(2, Math.round(lognormal(rng, P.teamSeatsMedian, 0.75))))
        : Math.min(4000, Math.max(25, Math.round(lognormal(rng, P.enterpriseSeatsMedian, 0.9))));
    const first = bernoulli(rng, P.newWorkspaceShare) ? WINDOW_START_MS + Math.floor(uniform(rng, 0, 26 * DAY_MS) / 1000) * 1000 : WINDOW_START_MS;
    let upgradeAt = Infinity;
    let upgradedSeats = seats;
    if (startPlan === 'free' && bernoulli(rng, P.upgradeShare)) {
      upgradeAt = Math.floor(uniform(rng, first, WINDOW_END_MS) / 1000) * 1000;
      upgradedSeats = 2 + rng.nextBelow(9);
    }

    const events: RawEvent[] = [];
    const members = Math.max(1, Math.round(seats * uniform(rng, P.activeSeatShare[0], P.activeSeatShare[1])));
    const users: string[] = [];
    for (let i = 0; i < members; i++) users.push(hexId('u', this.userCounter++, this.saltUser));
    if (upgradeAt < Infinity) for (let i = members; i < upgradedSeats; i++) users.push(hexId('u', this.userCounter++, this.saltUser));
    const paid = startPlan !== 'free';
    let consultant: string | null = null;
    if (paid && bernoulli(rng, P.consultantShare)) {
      // Consultant ids come from a separate counter range (>= 2^31), shared by a block of workspaces.
      const c = Math.floor(w / CONSULTANT_BLOCK) * CONSULTANTS_PER_BLOCK + rng.nextBelow(CONSULTANTS_PER_BLOCK);
      consultant = hexId('u', 0x80000000 + c, this.saltUser);
      users.push(consultant);
    }
    users.forEach((user, i) => {
      // Members added at the upgrade start using the product after it.
      const from = i >= members && upgradeAt < Infinity ? upgradeAt : first;
      if (from >= WINDOW_END_MS) return;
      const desktop = bernoulli(rng, 0.25);
      const favourite = rng.nextBelow(FEATURES.length);
      const rate = lognormal(rng, P.sessionsMedian, P.sessionsSigma);
      const nSessions = Math.min(300, Math.max(1, Math.round(rate * (WINDOW_END_MS - from) / (28 * DAY_MS))));
      for (let s = 0; s < nSessions; s++) {
        let t = sampleSeasonalTime(rng, from, WINDOW_END_MS, tz, SEASON);
        const n = 1 + geometric(rng, 0.4);
        for (let k = 0; k < n && t < WINDOW_END_MS; k++) {
          const tier: Plan = t >= upgradeAt ? 'team' : startPlan;
          const fc = featureCat[tier];
          const f = bernoulli(rng, 0.3) && PLAN_RANK[FEATURES[favourite]![1]] <= PLAN_RANK[tier] ? favourite : fc.index[fc.cat.sample(rng)]!;
          const action = actionPick[f]!.sample(rng);
          const client = FEATURES[f]![0] === 'api' ? 'api' : desktop ? 'desktop' : 'web';
          events.push({ t, user, feature: f, action, client, duration: Math.max(1, Math.round(lognormal(rng, ACTION_MEDIAN_MS[action]!, 0.9))) });
          t += (1 + Math.round(exponential(rng, 50))) * 1000;
        }
      }
    });

    let service: string | null = null;
    if (paid && bernoulli(rng, P.serviceAccountShare)) {
      service = hexId('u', this.userCounter++, this.saltUser);
      const n = Math.round(logUniform(rng, 200, 2000));
      const period = [60, 300, 900][rng.nextBelow(3)]! * 1000;
      let t = Math.max(first, WINDOW_START_MS + Math.floor(uniform(rng, 0, Math.max(0, WINDOW_END_MS - WINDOW_START_MS - n * period)) / 1000) * 1000);
      for (let k = 0; k < n && t < WINDOW_END_MS; k++) {
        events.push({ t, user: service, feature: FEATURES.findIndex((f) => f[0] === 'api'), action: 'call', client: 'api', duration: Math.max(1, Math.round(lognormal(rng, 180, 0.5))) });
        t += period + (rng.nextBelow(5) - 2) * 1000;
      }
    }
    events.sort((a, b) => a.t - b.t);
    return { id, startPlan, seats, upgradeAt, upgradedSeats, region, events, service, consultant };
  }
}

/** Streams SaaS feature-usage events; see the module comment and SAAS_PARAMS for the model. */
export function generateSaasUsage(opts: GenerateOptions, emit: (row: SaasEvent) => void): SaasSummary {
  checkGenerateOptions(opts);
  const model = new SaasModel(makeRng(opts.seed, STREAM_WORKSPACES), makeRng(opts.seed, STREAM_SETUP, SHAPE_ID));
  let row = 0;
  let workspaces = 0;
  let upgrades = 0;
  const byPlan: Record<Plan, number> = { free: 0, team: 0, enterprise: 0 };
  // Only consultants can be in several workspaces: track just them to keep memory flat.
  const consultantWorkspaces = new Map<string, number>();
  let users = 0;
  const serviceAccounts: { workspace_id: string; user_id: string; events: number }[] = [];
  for (let w = 0; row < opts.rows; w++) {
    const ws = model.workspace(w);
    if (ws.events.length === 0) continue;
    const seenUsers = new Set<string>();
    let before = false;
    let after = false;
    let serviceEvents = 0;
    for (const e of ws.events) {
      if (row >= opts.rows) break;
      row++;
      const upgraded = e.t >= ws.upgradeAt;
      if (upgraded) after = true;
      else before = true;
      seenUsers.add(e.user);
      if (e.user === ws.service) serviceEvents++;
      emit({
        event_id: row,
        ts: isoSeconds(e.t),
        workspace_id: ws.id,
        user_id: e.user,
        plan: upgraded ? 'team' : ws.startPlan,
        seats: upgraded ? ws.upgradedSeats : ws.seats,
        region: ws.region,
        client: e.client,
        feature: FEATURES[e.feature]![0],
        action: e.action,
        duration_ms: e.duration,
      });
    }
    workspaces++;
    byPlan[ws.startPlan]++;
    if (before && after) upgrades++;
    users += seenUsers.size;
    if (ws.consultant && seenUsers.has(ws.consultant)) {
      const n = consultantWorkspaces.get(ws.consultant) ?? 0;
      if (n > 0) users--;
      consultantWorkspaces.set(ws.consultant, n + 1);
    }
    if (ws.service && serviceEvents > 0) serviceAccounts.push({ workspace_id: ws.id, user_id: ws.service, events: serviceEvents });
  }
  let consultants = 0;
  for (const n of consultantWorkspaces.values()) if (n > 1) consultants++;
  return { shape: 'saas', rows: row, workspaces, users, byPlan, upgrades, serviceAccounts, consultantsInSeveralWorkspaces: consultants };
}

export const saasShape: Shape<SaasEvent, SaasSummary> = {
  name: 'saas',
  description: 'B2B SaaS feature usage (privacy unit workspace_id; user_id within workspaces as the finer unit)',
  columns: SAAS_COLUMNS,
  generate: generateSaasUsage,
};
