// Chart spec of a budget ledger: cumulative privacy loss over the budget's period, against the limit.
import type { LedgerView } from '../../shared/contracts/ipc';
import type { ChartSpec } from './specs';
import { CHART_FONT_FAMILY, noDataSpec, PALETTE } from './specs';

export function ledgerCalendarChart(ledger: LedgerView): ChartSpec {
  const title = `Cumulative ε over the ${ledger.period} (${ledger.accountant} accountant)`;
  if (ledger.calendar.length === 0) return noDataSpec(title);
  const days = ledger.calendar.map((c) => c.day);
  const warn = ledger.limit.epsilon * 0.8;
  return {
    data: [
      { type: 'scatter', mode: 'lines', name: 'cumulative ε (composed)', x: days, y: ledger.calendar.map((c) => c.epsilon), line: { color: PALETTE.blue, width: 2.5, shape: 'hv' }, hovertemplate: 'day %{x}: ε %{y:.3f}<extra></extra>' },
      { type: 'scatter', mode: 'lines', name: `budget ε ${ledger.limit.epsilon}`, x: [1, ledger.periodDays], y: [ledger.limit.epsilon, ledger.limit.epsilon], line: { color: PALETTE.vermillion, dash: 'dash', width: 1.5 }, hoverinfo: 'skip' },
      { type: 'scatter', mode: 'lines', name: '80% warning', x: [1, ledger.periodDays], y: [warn, warn], line: { color: PALETTE.orange, dash: 'dot', width: 1 }, hoverinfo: 'skip' },
    ],
    layout: {
      title: { text: title, font: { size: 14 } },
      font: { family: CHART_FONT_FAMILY, size: 12 },
      margin: { l: 56, r: 16, t: 40, b: 44 },
      xaxis: { title: { text: `day of the ${ledger.period}` }, range: [0.5, ledger.periodDays + 0.5] },
      yaxis: { title: { text: 'ε spent so far' }, rangemode: 'tozero' },
      legend: { orientation: 'h', y: -0.25 },
      showlegend: true,
    },
  };
}
