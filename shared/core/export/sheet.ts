// The privacy sheet: one self-contained HTML page (inline CSS and SVG, no script) for privacy
// reviewers and stakeholders: the approval or DRAFT banner, the budget and the privacy unit, and per
// metric what it measures, its privacy parameters, bounds and cohorts, and — with a simulation
// report — how accurate it is, in plain sentences with a small chart. Every text from the config
// or the report is escaped.

import type { AnalysisConfig, Dimension, Metric } from '../config/schema';
import type { LocalMetricReport, MetricReport, SimulationReport } from '../simulate/report';
import type { ExportContext } from './common';
import { approx, approvalOf, dimensionsOf, DRAFT_BANNER, filtersText, mechanismText, metricLabel, num } from './common';
import type { MetricRelease, ReleasePlan } from './release-plan';
import { releasePlan } from './release-plan';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const h = escapeHtml;

/** A number for people: 3 significant digits, no exponent for ordinary magnitudes. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) {
    const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(a)));
    return Number(x.toFixed(digits)).toLocaleString('en-US', { maximumFractionDigits: digits });
  }
  return x.toExponential(2);
}

function pct(x: number): string {
  return `${fmt(100 * x)}%`;
}

function plural(word: string): string {
  if (/[^aeiou]y$/i.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/i.test(word)) return `${word}es`;
  return `${word}s`;
}

function cohortNoun(dims: readonly Dimension[]): { one: string; many: string } {
  if (dims.length === 1) {
    const n = dims[0]!.name.replace(/[_.-]+/g, ' ');
    return { one: n, many: plural(n) };
  }
  return { one: 'cohort', many: 'cohorts' };
}

function periodText(cadence: string): string {
  return cadence === 'daily' ? 'each day' : cadence === 'weekly' ? 'each week' : cadence === 'monthly' ? 'each month' : 'in the release';
}

function unitNoun(config: AnalysisConfig): string {
  return config.privacyUnit.kind === 'device' ? 'device' : config.privacyUnit.column.replace(/_?id$/i, '').replace(/[_.-]+/g, ' ') || 'user';
}

function byText(dims: readonly Dimension[]): string {
  if (dims.length === 0) return 'as one overall number';
  return `per ${dims.map((d) => d.name.replace(/[_.-]+/g, ' ')).join(' and ')}`;
}

/** What a metric measures, in words. */
function measureText(config: AnalysisConfig, m: Metric): string {
  const unit = unitNoun(config);
  const dims = m.kind === 'local-frequency' ? [] : dimensionsOf(config, m.by);
  const where = m.filter.length ? ` among rows where ${filtersText(m.filter)}` : '';
  switch (m.kind) {
    case 'count': return `The number of events (rows)${where}, ${byText(dims)}.`;
    case 'count-distinct': return `The number of distinct ${plural(unit)} with at least one row${where}, ${byText(dims)}.`;
    case 'sum': return `The total of ${m.column}${where}, ${byText(dims)}.`;
    case 'mean': return `The average of ${m.column}${where}, ${byText(dims)} (a noisy total divided by a noisy count).`;
    case 'ratio': {
      const num = config.metrics.find((x) => x.id === m.numerator);
      const den = config.metrics.find((x) => x.id === m.denominator);
      return `“${num ? metricLabel(num) : m.numerator}” divided by “${den ? metricLabel(den) : m.denominator}”, ${byText(dims)}: computed from those two released numbers, so it costs no extra privacy.`;
    }
    case 'conversion': return `Among the ${plural(unit)} that did ${filtersText(m.from)}, the share that also did ${filtersText(m.to)}${where}, ${byText(dims)}.`;
    case 'funnel': return `How many ${plural(unit)} reach each step of ${m.steps.map((s) => filtersText(s)).join(' → ')}${where}, ${byText(dims)}, and the share reaching the last step.`;
    case 'local-frequency': return `The share of ${plural(unit)} by their most frequent ${m.column} among ${m.categories.map((c) => String(c)).join(', ')}${where}. Each ${unit} reports through randomized response on its own device (local differential privacy), so the raw value never leaves it.`;
  }
}

function provenanceText(p: string | undefined): string {
  switch (p) {
    case 'domain-knowledge': return 'set from domain knowledge';
    case 'public-data': return 'set from older or public data';
    case 'dp-estimate': return 'estimated with differential privacy (that estimate has its own cost)';
    case 'tuned-on-sample': return 'tuned on the sample — bounds tuned on the data being released leak a little; confirm them from other data before production';
    default: return 'provenance not recorded';
  }
}

interface Bar {
  readonly label: string;
  readonly value: number;
  readonly text: string;
  readonly color: string;
}

/** A horizontal bar chart (values in [0, max]) as inline SVG with a text alternative. */
function barChart(title: string, bars: readonly Bar[], max: number): string {
  const rowH = 22;
  const labelW = 150;
  const barW = 260;
  const height = bars.length * rowH + 8;
  const rows = bars.map((b, i) => {
    const w = max > 0 ? Math.max(0, Math.min(1, b.value / max)) * barW : 0;
    const y = 4 + i * rowH;
    return `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${h(b.label)}</text>`
      + `<rect x="${labelW}" y="${y + 3}" width="${fmtSvg(w)}" height="14" fill="${b.color}"></rect>`
      + `<text x="${fmtSvg(labelW + w + 6)}" y="${y + 14}">${h(b.text)}</text>`;
  }).join('');
  return `<figure class="chart"><svg role="img" aria-label="${h(title)}" width="${labelW + barW + 90}" height="${height}" viewBox="0 0 ${labelW + barW + 90} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${h(title)}</title>${rows}</svg><figcaption>${h(title)}</figcaption></figure>`;
}

function fmtSvg(x: number): string {
  return String(Math.round(x * 10) / 10);
}

function weightedMedian(values: number[], weights: number[]): number | null {
  const idx = values.map((_, i) => i).filter((i) => Number.isFinite(values[i]!) && weights[i]! > 0).sort((a, b) => values[a]! - values[b]!);
  const total = idx.reduce((s, i) => s + weights[i]!, 0);
  if (!(total > 0)) return null;
  let acc = 0;
  for (const i of idx) {
    acc += weights[i]!;
    if (acc >= total / 2) return values[i]!;
  }
  return values[idx[idx.length - 1]!]!;
}

/** Plain-language accuracy of one central metric from the simulation report. */
function accuracyHtml(config: AnalysisConfig, r: MetricRelease, mr: MetricReport, report: SimulationReport): string {
  const m = r.metric;
  const dims = m.kind === 'local-frequency' ? [] : dimensionsOf(config, m.by);
  const noun = cohortNoun(dims);
  const s = mr.summary;
  const conf = mr.privacy.confidence;
  const P = s.cohorts;
  const released = s.expectedReleased.mc;
  const share = P > 0 ? released / P : 0;
  const sentences: string[] = [];
  const period = periodText(m.cadence);
  if (dims.length > 0) {
    if (share >= 0.995) sentences.push(`All ${P} ${P === 1 ? noun.one : noun.many} are released ${period}.`);
    else {
      const tenths = Math.round(share * 10);
      sentences.push(`About ${tenths === 0 && share > 0 ? 'fewer than 1' : tenths} in 10 ${noun.many} are released ${period} (on average ${fmt(released)} of ${P}; the others are suppressed because too few ${plural(unitNoun(config))} are in them${s.valueLostToSuppression.mc > 0 ? `, ${pct(s.valueLostToSuppression.mc)} of the total value` : ''}).`);
    }
  }
  const weights = mr.cohorts.map((c) => c.releaseProbability);
  const what = metricLabel(m).toLowerCase();
  if (mr.relativeErrorBasis === '|true|') {
    const rel = s.medianRelativeError;
    if (rel !== null) sentences.push(`For a released ${dims.length ? noun.one : 'value'}, ${what} is typically within ±${pct(rel)} of the truth (relative error, median over ${noun.many}).`);
  } else {
    const typical = weightedMedian(mr.cohorts.map((c) => c.meanAbsError ?? NaN), weights);
    const bound = weightedMedian(mr.cohorts.map((c) => c.halfWidth ?? NaN), weights);
    if (typical !== null) {
      sentences.push(`For a released ${dims.length ? noun.one : 'value'}, ${what} is typically within ±${fmt(typical)} of the truth${bound !== null ? ` (${pct(conf)} of the time within ±${fmt(bound)} from noise alone${s.coverage !== null ? `; that interval held in ${pct(s.coverage)} of simulated releases` : ''})` : ''}.`);
    }
  }
  const within = s.withinShare.filter((w) => w.mc !== null);
  if (within.length) {
    const w = within[within.length - 1]!;
    sentences.push(`${pct(w.mc!)} of ${noun.many} are released within ±${pct(w.x)} of their true value.`);
  }
  const meta = `ε ${num(mr.privacy.epsilon)}, δ ${num(mr.privacy.delta)}, ${pct(conf)} confidence, ${report.run.trials} simulated releases (seed ${report.run.seed}) on ${report.scale.description}`;
  const bars: Bar[] = within.map((w) => ({ label: `within ±${pct(w.x)}`, value: w.mc!, text: pct(w.mc!), color: '#2f6fb0' }));
  const d = s.decomposition;
  const parts: Bar[] = d.total > 0 ? [
    { label: 'noise', value: d.noise / d.total, text: pct(d.noise / d.total), color: '#7a5cb8' },
    { label: 'clipping (bias)', value: d.clipping / d.total, text: pct(d.clipping / d.total), color: '#c9822b' },
    { label: 'contribution bounding', value: d.bounding / d.total, text: pct(d.bounding / d.total), color: '#b5544a' },
    { label: 'suppression', value: d.suppression / d.total, text: pct(d.suppression / d.total), color: '#6b7b8c' },
  ] : [];
  return `<div class="accuracy"><h4>Accuracy (simulated)</h4><p>${sentences.map(h).join(' ')}</p>`
    + `<p class="meta">${h(meta)}</p>`
    + (bars.length ? barChart(`Share of ${noun.many} released within ±x of the truth (${metricLabel(m)})`, bars, 1) : '')
    + (parts.length ? barChart(`Where the error comes from: share of the mean squared error (${metricLabel(m)})`, parts, 1) : '')
    + '</div>';
}

function localAccuracyHtml(lr: LocalMetricReport, report: SimulationReport): string {
  const s = lr.summary;
  const within = s.withinShare.filter((w) => w.mc !== null);
  const sentences = [
    `With ${lr.units} reporting ${lr.units === 1 ? 'unit' : 'units'}, each category's share is off by about ${fmt(100 * s.rmse.mc)} percentage points (root mean square); the stated ${pct(lr.privacy.confidence)} intervals held in ${pct(s.coverage)} of simulated releases.`,
  ];
  const bars: Bar[] = within.map((w) => ({ label: `within ±${pct(w.x)}`, value: w.mc!, text: pct(w.mc!), color: '#2f6fb0' }));
  return `<div class="accuracy"><h4>Accuracy (simulated)</h4><p>${h(sentences.join(' '))}</p><p class="meta">${h(`local ε ${num(lr.privacy.localEpsilon)}, ${report.run.trials} simulated releases (seed ${report.run.seed})`)}</p>`
    + (bars.length ? barChart(`Share of category estimates within ±x of the truth (${lr.label ?? lr.id})`, bars, 1) : '')
    + '</div>';
}

function metricSection(config: AnalysisConfig, plan: ReleasePlan, r: MetricRelease, ctx: ExportContext): string {
  const m = r.metric;
  const rows: [string, string][] = [];
  if (m.kind === 'local-frequency') {
    rows.push(['Privacy', `local ε ${num(m.privacy.localEpsilon)} per ${unitNoun(config)} and release (randomized response on the device); no central budget, no cohorts`]);
  } else if (m.kind === 'ratio') {
    rows.push(['Privacy', `no budget of its own: post-processing of ${m.numerator} and ${m.denominator} (together ε ${num(r.total.epsilon)}, δ ${num(r.total.delta)})`]);
  } else {
    const p = m.privacy;
    rows.push(['Privacy', `ε ${num(r.total.epsilon)} and δ ${num(r.total.delta)} — ${pct(p.budgetShare)} of the analysis budget; ${mechanismText(p.mechanism)} noise`]);
    for (const part of r.parts) {
      const n = part.noise;
      const scale = n.kind === 'none' ? 'no noise' : `${n.kind === 'laplace' || n.kind === 'discrete-laplace' ? 'scale' : 'σ'} ${fmt(n.kind === 'laplace' || n.kind === 'discrete-laplace' ? n.scale : n.sigma)}`;
      rows.push([`Noise${part.key ? ` (${part.key})` : ''}`, `${scale}: 95% of the time the noise alone is within ±${fmt(part.halfWidth95)} (ε ${num(part.budget.epsilon)}, δ ${num(part.budget.delta)})`]);
    }
    rows.push(['Bounds', `each ${unitNoun(config)} counts in at most ${p.maxPartitionsContributed} ${p.maxPartitionsContributed === 1 ? 'cohort' : 'cohorts'} (L0) and with at most ${p.maxContributionsPerPartition} ${p.maxContributionsPerPartition === 1 ? 'row' : 'rows'} per cohort (L∞)${p.clamp ? `; values clamped to [${num(p.clamp.low)}, ${num(p.clamp.high)}] ${p.clamp.mode === 'per-value' ? 'per row' : 'per cohort sum'}` : ''} — ${provenanceText(p.boundProvenance)}`]);
  }
  if (m.kind !== 'local-frequency') {
    const g = plan.groups[r.group]!;
    const dims = dimensionsOf(config, m.by);
    let cohorts: string;
    if (dims.length === 0) cohorts = 'one overall value, always released';
    else if (g.publicPartitions) cohorts = `public: every one of the ${dims.reduce((n, d) => n * d.publicValues!.length, 1)} listed values is released, empty ones too`;
    else {
      const sel = g.selection!;
      const threshold = `${sel.strategy} thresholding${sel.threshold !== null ? ` at about ${fmt(sel.threshold)} ${plural(unitNoun(config))}` : ''}`;
      const driver = config.metrics.find((x) => x.id === sel.driver);
      cohorts = r.role === 'shared'
        ? `chosen from the data: a cohort is released when this metric's own noisy ${unitNoun(config)} count passes a threshold (${threshold}; no extra privacy cost)`
        : r.role === 'covered'
          ? `chosen from the data: released on the cohorts that “${driver ? metricLabel(driver) : sel.driver}” keeps (its noisy ${unitNoun(config)} count passes a threshold, ${threshold})`
          : `chosen from the data by ${sel.strategy} partition selection on the ${plural(unitNoun(config))} of “${driver ? metricLabel(driver) : sel.driver}” (ε ${approx(sel.epsilon)}, δ ${approx(sel.delta)} for the group, paid from the group's selection shares)`;
      if (sel.preThreshold > 1) cohorts += `; cohorts with fewer than ${sel.preThreshold} ${plural(unitNoun(config))} are never released`;
    }
    rows.push(['Cohorts', cohorts]);
  }
  rows.push(['Released', m.cadence === 'one-off' ? 'once' : m.cadence]);
  let accuracy = '';
  const report = ctx.report;
  if (report) {
    const mr = report.metrics.find((x) => x.id === m.id);
    const lr = report.local.find((x) => x.id === m.id);
    if (mr) accuracy = accuracyHtml(config, r, mr, report);
    else if (lr) accuracy = localAccuracyHtml(lr, report);
    else accuracy = '<div class="accuracy"><p>Not in the simulation report.</p></div>';
  }
  return `<section class="metric" id="metric-${h(m.id)}"><h3>${h(metricLabel(m))} <code>${h(m.id)}</code></h3>`
    + `<p class="what">${h(measureText(config, m))}</p>`
    + `<table class="facts">${rows.map(([k, v]) => `<tr><th scope="row">${h(k)}</th><td>${h(v)}</td></tr>`).join('')}</table>`
    + `${accuracy}</section>`;
}

const CSS = `body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2733;max-width:920px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:8px 0}h2{font-size:19px;margin-top:28px;border-bottom:1px solid #d5dbe2}h3{font-size:16px;margin:0 0 6px}h4{font-size:14px;margin:10px 0 4px}
code{font:13px ui-monospace,monospace;background:#f1f3f6;padding:1px 4px;border-radius:3px}
.banner{padding:14px 18px;border-radius:6px;font-weight:600;margin-bottom:16px}
.banner.draft{background:#fde8e6;border:2px solid #c0392b;color:#8e1f14;font-size:18px}
.banner.approved{background:#e5f4ea;border:2px solid #2e7d4f;color:#1c5233}
.banner p{font-weight:400;margin:6px 0 0}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13px}dl.meta dt{color:#5a6675}dl.meta dd{margin:0;word-break:break-all}
.warning{background:#fff4dc;border-left:4px solid #d98e04;padding:8px 12px}
.metric{border:1px solid #d5dbe2;border-radius:6px;padding:12px 16px;margin:14px 0}
table.facts{border-collapse:collapse;width:100%;font-size:14px}table.facts th{text-align:left;vertical-align:top;width:110px;color:#5a6675;font-weight:500;padding:3px 8px 3px 0}table.facts td{padding:3px 0}
table.summary{border-collapse:collapse;width:100%;font-size:14px}table.summary th,table.summary td{border-bottom:1px solid #e3e7ec;padding:4px 8px;text-align:left}
.meta{color:#5a6675;font-size:12px}
figure.chart{margin:8px 0}figure.chart svg{font:12px system-ui,sans-serif;fill:#1d2733;max-width:100%;height:auto}figure.chart figcaption{font-size:12px;color:#5a6675}
footer{margin-top:32px;font-size:12px;color:#5a6675}
@media print{.banner.draft{-webkit-print-color-adjust:exact;print-color-adjust:exact}}`;

/** The privacy sheet of a config (see the module comment). */
export function exportSheet(config: AnalysisConfig, ctx: ExportContext): string {
  const plan = releasePlan(config);
  const a = approvalOf(ctx);
  const banner = a
    ? `<div class="banner approved" role="status">Approved by ${h(a.reviewer)} on ${h(a.at)}<p>Rationale: ${h(a.rationale)}</p><p>Evidence: <code>${h(a.evidenceHash)}</code></p></div>`
    : `<div class="banner draft" role="alert">${h(DRAFT_BANNER)}<p>Nothing on this sheet has been signed off; the numbers may still change.</p></div>`;
  const spent = plan.allotted;
  const held = Math.max(0, config.budget.epsilon - spent.epsilon);
  const unit = unitNoun(config);
  const device = config.privacyUnit.kind === 'device'
    ? `<p class="warning">Warning: the privacy unit is a device, not a person. Someone with several devices is protected less: with k devices, at k times the ε stated here (group privacy).</p>`
    : '';
  const summaryRows = plan.metrics.map((r) => {
    const m = r.metric;
    const eps = m.kind === 'local-frequency' ? `local ${num(m.privacy.localEpsilon)}` : m.kind === 'ratio' ? '0 (derived)' : num(r.total.epsilon);
    const del = m.kind === 'local-frequency' || m.kind === 'ratio' ? '0' : num(r.total.delta);
    const share = m.kind === 'local-frequency' || m.kind === 'ratio' ? '—' : pct(m.privacy.budgetShare);
    return `<tr><td><a href="#metric-${h(m.id)}">${h(metricLabel(m))}</a></td><td>${h(m.kind)}</td><td>${h(eps)}</td><td>${h(del)}</td><td>${h(share)}</td></tr>`;
  }).join('');
  const meta: [string, string][] = [
    ['Status', a ? `APPROVED by ${a.reviewer} on ${a.at}` : 'DRAFT — not approved'],
    ['Analysis', ctx.analysisId],
    ['Version', String(ctx.version)],
    ['Config hash', ctx.configHash],
    ...(a ? [['Approval evidence', a.evidenceHash] as [string, string]] : []),
    ['Generated', `${ctx.generatedAt} by DP Workbench ${ctx.workbenchVersion}`],
    ...(ctx.report ? [['Simulation', `${ctx.report.run.trials} trials, seed ${ctx.report.run.seed}, ${ctx.report.scale.description}`] as [string, string]] : []),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="dpw-analysis-id" content="${h(ctx.analysisId)}">
<meta name="dpw-version" content="${ctx.version}">
<meta name="dpw-config-hash" content="${h(ctx.configHash)}">
<meta name="dpw-status" content="${a ? 'approved' : 'draft'}">
<title>${a ? '' : 'DRAFT — '}Privacy sheet: ${h(config.name)}</title>
<style>${CSS}</style>
</head>
<body>
${banner}
<h1>${h(config.name)}</h1>
${config.description ? `<p>${h(config.description)}</p>` : ''}
<dl class="meta">${meta.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(v)}</dd>`).join('')}</dl>
<h2>Privacy budget</h2>
<p>The whole analysis is protected at <strong>ε ${h(num(config.budget.epsilon))}</strong> and <strong>δ ${h(num(config.budget.delta))}</strong> (${h(config.budget.accountant)} accountant). The metrics below spend ε ${h(approx(spent.epsilon))} and δ ${h(approx(spent.delta))} between them (their shares add up); ${held > 1e-12 ? `ε ${h(approx(held))} is held back for follow-up questions.` : 'nothing is held back.'} Smaller ε means stronger protection and more noise; δ is the small chance that the ε guarantee does not hold.</p>
<h2>Who is protected</h2>
<p>The privacy unit is the <strong>${h(unit)}</strong> (column <code>${h(config.privacyUnit.column)}</code>): everything one ${h(unit)} contributes is protected together, however many rows it has.</p>
${device}
<h2>Metrics</h2>
<table class="summary"><thead><tr><th>Metric</th><th>Kind</th><th>ε</th><th>δ</th><th>Share</th></tr></thead><tbody>${summaryRows}</tbody></table>
${plan.metrics.map((r) => metricSection(config, plan, r, ctx)).join('\n')}
<footer>Accuracy figures come from a Monte-Carlo simulation on the sample with a fast seeded generator; a production release must use exact discrete samplers over a cryptographic random source (Mironov 2012). Confidence intervals cover the noise only; clipping, bounding and suppression are shown separately.</footer>
</body>
</html>
`;
}
