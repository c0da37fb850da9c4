// ESLint (flat config), run by `npm run lint` and `scripts/dev check`. Type-aware rules over src/ and
// test/ that catch real bugs (a promise nobody awaits, a promise where a callback returns void, a
// switch that forgets a case), file-level import cycles, the module boundaries of
// docs/architecture.md (scripts/module-boundaries.js: which top-level folder of src/ may import which),
// and entities imported only inside src/storage.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { MODULES, allowedImports } from './scripts/module-boundaries.js';

/** One zone per top-level folder: it may not import the folders above it, nor the composition root. */
const boundaryZones = MODULES.map((module) => ({
  target: `./src/${module}/**`,
  from: [...MODULES.filter((m) => m !== module && !allowedImports(module).includes(m)).map((m) => `./src/${m}/**`), './src/*.ts'],
  message: `src/${module} may import only ${allowedImports(module).join(', ') || 'nothing of src/'} (scripts/module-boundaries.js, docs/architecture.md#module-map)`,
}));

/** Entities are storage's own: every other module reads and writes through the repositories. */
const entityZones = MODULES.filter((m) => m !== 'storage').map((module) => ({
  target: `./src/${module}/**`,
  from: './src/storage/entities/**',
  message: 'entities stay inside src/storage: use (or add) a repository in src/storage/repositories (docs/architecture.md)',
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.site/**', 'coverage/**', 'data/**', '.state/**', '.tmp/**', 'test/peers/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.base],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: {
      // `./x.js` resolves to x.ts (ESM imports name the emitted file); imported .ts files are parsed
      // with the TypeScript parser, so no-cycle follows them.
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      // TypeScript checks these (and eslint's versions misfire on types and overloads).
      'no-undef': 'off',
      'no-redeclare': 'off',
      'no-dupe-class-members': 'off',
      'no-unused-vars': 'off',
      // Promises: each one awaited, returned or explicitly voided; none where a callback's result is ignored.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // Rethrowing what a catch or a callback received (unknown) is fine; a literal string is not.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // A new member of a union that a switch forgets.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      'no-self-compare': 'error',
      'no-template-curly-in-string': 'off',
      'no-constant-binary-expression': 'error',
      'no-empty': ['error', { allowEmptyCatch: true }],
      // The input filters match control characters on purpose.
      'no-control-regex': 'off',
      // Imports: no file-level cycle; the folders follow the module map.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: [...boundaryZones, ...entityZones] }],
    },
  },
);
