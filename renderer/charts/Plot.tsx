// The one component that imports plotly.js: draws a ChartSpec (specs.ts) into a div.
import Plotly from 'plotly.js-dist-min';
import { useDeferredValue, useEffect, useRef } from 'react';
import type { ChartSpec } from './specs';

const CONFIG = { displaylogo: false, responsive: true };
const DEFAULT_HEIGHT = 320;

export interface PlotProps {
  readonly spec: ChartSpec;
  readonly testId?: string;
  /** Pixels; default the spec's layout.height, else 320. */
  readonly height?: number;
}

export function Plot({ spec: latest, testId, height }: PlotProps) {
  // A chart is redrawn at low priority: the numbers beside a moving control update first.
  const spec = useDeferredValue(latest);
  const ref = useRef<HTMLDivElement>(null);
  const drawn = useRef<string>('');
  const h = height ?? spec.layout.height ?? DEFAULT_HEIGHT;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    // Pages rebuild specs on every render (a slider moves many times a second): redraw only when
    // the chart really changed. A spec is plain data, so its JSON is its identity.
    const json = JSON.stringify(spec) + h;
    if (json === drawn.current) return;
    drawn.current = json;
    // Plotly writes computed ranges back into the objects it is given: hand it a copy so a
    // memoised spec stays as built.
    const { data, layout } = JSON.parse(JSON.stringify(spec)) as ChartSpec;
    void Plotly.react(el, data, { ...layout, height: h, autosize: true }, CONFIG);
  }, [spec, h]);

  useEffect(() => {
    const el = ref.current;
    return () => {
      // A remount (React's StrictMode does one in development) must draw again.
      drawn.current = '';
      if (el) Plotly.purge(el);
    };
  }, []);

  return <div ref={ref} data-testid={testId} style={{ width: '100%', height: h }} />;
}
