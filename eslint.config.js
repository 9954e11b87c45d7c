// Layer rules (see ../shared/GUIDE.md in the handbook): the core is pure, the renderer never reaches
// into Node or Electron code, and randomness and clocks are arguments, not globals, in the core.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', '.cache/**', 'test/results/**', 'sample-data/generated/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['shared/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'worker_threads', 'child_process'], message: 'shared/core is pure: no Node modules.' },
          { group: ['electron', 'electron/*', 'react', 'react-dom', 'zustand', '@duckdb/*', 'arquero'], message: 'shared/core imports nothing outside itself.' },
          { group: ['**/shared/node/**', '**/node/**', '**/renderer/**', '**/electron/**', '../../node/*', '../../../renderer/*'], message: 'shared/core imports nothing outside itself.' },
        ],
      }],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Randomness is passed in as an Rng (shared/core/rng).' },
        { object: 'Date', property: 'now', message: 'Clocks are passed in; the core is a pure function of its inputs.' },
        { object: 'performance', property: 'now', message: 'Clocks are passed in; the core is a pure function of its inputs.' },
      ],
      'no-restricted-globals': ['error', 'process', 'window', 'document', 'Buffer', 'require'],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    ignores: ['renderer/vite.config.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron', 'electron/*', '**/electron/**'], message: 'The renderer reaches the host only through the bridge.' },
          { group: ['**/shared/node/**', 'node:*'], message: 'The renderer never imports Node services.' },
        ],
      }],
    },
  },
);
