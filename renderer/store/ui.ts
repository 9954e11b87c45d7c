import type { StateCreator } from 'zustand';
import { toBridgeError } from '../bridge';
import type { UiSlice, WorkbenchState } from './types';

export const createUiSlice: StateCreator<WorkbenchState, [], [], UiSlice> = (set) => ({
  screen: 'data',
  notice: null,
  setScreen: (screen) => set({ screen }),
  showError: (title, e) => set({ notice: { kind: 'error', title, message: toBridgeError(e).message } }),
  dismissNotice: () => set({ notice: null }),
});
