// The workbench store: one zustand store from typed slices (zustand's slices guide; GUIDE.md "The
// renderer"). Slices hold state and orchestration; DP results come from the core (preview model,
// plan builder) and the simulation workers, never from the slices themselves.

import { create } from 'zustand';
import { createAnalysisSlice } from './analysis';
import { createDatasetSlice } from './dataset';
import { createGovernanceSlice } from './governance';
import { createSimulationSlice } from './simulation';
import type { WorkbenchState } from './types';
import { createUiSlice } from './ui';

export const useWorkbench = create<WorkbenchState>()((...a) => ({
  ...createUiSlice(...a),
  ...createDatasetSlice(...a),
  ...createAnalysisSlice(...a),
  ...createSimulationSlice(...a),
  ...createGovernanceSlice(...a),
}));

export type { WorkbenchState } from './types';
