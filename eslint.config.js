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
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
);
