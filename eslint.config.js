import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import layers from './scripts/eslint-layers.mjs';

export default ts.config(
  { ignores: ['dist/', 'dist-node/', 'node_modules/', 'public/', 'tests/fixtures/generated/', 'tests/screenshots/', 'tests/.artifacts/', 'coverage/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  // The layers of docs/design.md: which folder of src may import which (scripts/eslint-layers.mjs).
  { files: ['src/**/*.{ts,js,svelte}'], plugins: { layers }, rules: { 'layers/imports': 'error' } },
  // The one back-edge left, until the kernel's owner applies it: rope.ts should take RopeSpec from
  // src/engine/rope-spec.ts instead of ModelSpec from src/model/spec.ts (issue 11). Remove this entry then.
  { files: ['src/engine/kernels/rope/rope.ts'], rules: { 'layers/imports': 'off' } },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
);
