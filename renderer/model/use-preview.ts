// The analytic preview as a hook: recomputed (cached parts reused) whenever the config or the
// contributions change; errors come back as text for the screen, not thrown.
import { useMemo } from 'react';
import { useWorkbench } from '../store';
import type { Preview } from './preview';
import { sharedPreviewModel as model } from './preview';

export function usePreview(): { preview: Preview | null; error: string | null } {
  const config = useWorkbench((s) => s.config);
  const contributions = useWorkbench((s) => s.contributions);
  const key = useWorkbench((s) => s.contributionsKey);
  return useMemo(() => {
    if (!config || !contributions || key === null) return { preview: null, error: null };
    // Contributions of an older data definition: wait for the new ones.
    if (config.metrics.some((m) => m.kind !== 'ratio' && m.kind !== 'local-frequency' && !contributions.contributions[m.id])) return { preview: null, error: null };
    try {
      return { preview: model.evaluate(config, contributions.contributions, contributions.units), error: null };
    } catch (e) {
      return { preview: null, error: e instanceof Error ? e.message : String(e) };
    }
  }, [config, contributions, key]);
}
