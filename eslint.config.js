import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importRules } from './import-rules.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'examples/', '.overseer/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // zod's named `z` is one object holding all of zod, locales included, so the bundle keeps all of
      // it (540 KB more for every command to compile at start); `* as z` keeps only what is used.
      'no-restricted-syntax': [
        'error',
        { selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z']", message: "import zod as `import * as z from 'zod'`: the named `z` puts all of zod in the bundle." },
      ],
    },
  },
  { files: ['eslint.config.js', 'import-rules.js'], extends: [tseslint.configs.disableTypeChecked] },
  // Scripts run as processes (the fake agent tests run, the native build): plain Node JS, outside tsconfig.
  {
    files: ['test/**/*.mjs', 'native/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'module', globals: { process: 'readonly', setTimeout: 'readonly' } },
  },
  ...importRules,
  // The viewer's page scripts: plain browser JS served as it is (no build step), outside tsconfig.
  {
    files: ['src/web/static/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'history', 'localStorage', 'fetch', 'EventSource', 'AbortController', 'Node', 'setInterval', 'setTimeout', 'clearTimeout', 'URLSearchParams', 'console'].map((name) => [name, 'readonly']),
      ),
    },
  },
);
