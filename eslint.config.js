// Lint rules that encode the house dependency rule (STYLE.md "The shape of the house").
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
})

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'data/**', '**/test-results/**', '**/playwright-report/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Y.Text and Y.XmlText define toString(); the rule cannot see it through Yjs's types.
      '@typescript-eslint/no-base-to-string': ['error', { ignoredTypeNames: ['YText', 'YXmlText', 'Error'] }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Named exports only (STYLE.md).' },
      ],
    },
  },
  {
    files: ['shared/src/**'],
    rules: restrict(
      ['node:*', 'ws', 'level', 'fastify', 'react', '@tiptap/*', 'fs', 'http', 'net'],
      'shared/ is pure protocol: yjs, y-protocols and lib0 only.',
    ),
  },
  {
    files: ['server/src/core/**'],
    rules: restrict(
      ['ws', 'node:http', 'node:net', 'level', 'classic-level', 'fastify', '**/transports/**', '**/http/**'],
      'The core never sees a socket or a database: talk to Peer and DocStore.',
    ),
  },
  {
    files: ['server/src/transports/**'],
    rules: restrict(
      ['yjs', 'y-protocols/*', 'level'],
      'Transports are thin adapters: no Yjs internals, no storage.',
    ),
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
)
