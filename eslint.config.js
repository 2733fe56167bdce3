// Lint: typescript-eslint's recommended rules plus the import directions of the design
// (DESIGN.md "Code map"): the leaves (domain, ml, views) import nothing of the adapters or the
// database; services import no adapter (they reach the queue, the catalog and Slack through ports).
// Adapters (slack, http, jobs, cli, salesforce, admin) import no database module.
import tseslint from 'typescript-eslint';

const adapters = ['slack', 'http', 'jobs', 'cli', 'salesforce', 'demo', 'admin', 'testing'];
const outside = (...dirs) => dirs.map((d) => `**/${d}/**`);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'demo-out/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Tests and benches poke into Slack payloads and raw rows; untyped access is the point there.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Untyped boundaries: pg's result rows and driver hooks, Agenda's job data, parsed XML, and the
    // raw SQL rows repositories map to typed ones (the two services listed still hold their SQL).
    files: ['src/db/**/*.ts', 'src/jobs/job-system.ts', 'src/jobs/handlers/registry.ts', 'src/salesforce/outbound-message.ts', 'src/slack/dedupe.ts',
      'src/services/edge-service.ts', 'src/services/kit-sync-upsert.ts', 'src/repositories/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../*', 'typeorm', '@slack/*', 'express', 'pg'], message: 'domain/ holds pure rules: it imports nothing else of Assay, no database, Slack or HTTP.' }] }],
    },
  },
  {
    files: ['src/ml/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: [...outside('db', 'services', 'storage', 'app', ...adapters), 'typeorm', '@slack/*', 'express', 'pg'], message: 'ml/ knows nothing of the database, Slack, HTTP or jobs.' }] }],
    },
  },
  {
    files: ['src/services/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: outside(...adapters), message: 'services/ are the core: they reach adapters only through ports (services/ports/), never by import.' }] }],
    },
  },
  {
    // Adapters reach the database through services only (services own the transactions).
    files: ['src/{slack,http,jobs,cli,salesforce,admin}/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/db/**', '**/repositories/**', 'typeorm', 'pg', '@electric-sql/*'], message: 'Adapters call services; they import no database module (db/, repositories/, TypeORM, pg).' }] }],
      // ...nor reach for the context's database handle: `ctx.services` owns the transactions.
      'no-restricted-syntax': ['error', { selector: "MemberExpression[property.name='db'][object.name='ctx'], MemberExpression[property.name='db'][object.property.name='ctx']", message: 'Adapters call ctx.services; the database handle is the services\' (app/bootstrap.ts closeContext ends it).' }],
    },
  },
  {
    // Repositories hold the SQL; they know tables, not flows: no services, no adapters.
    files: ['src/repositories/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: outside('services', 'app', ...adapters), message: 'repositories/ only read and write tables: services call them, never the other way round.' }] }],
    },
  },
  {
    // Services whose SQL has moved into repositories/ keep it there (the list grows as the rest moves).
    files: ['src/services/{slack-delivery,ops-metrics,history,catalog}-service.ts', 'src/services/kit-sync-events.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='query']", message: 'SQL lives in repositories/: add a repository method.' }],
    },
  },
  {
    files: ['views/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../src/*', '../src/**', 'typeorm', 'pg'], message: 'views/ only builds Block Kit from plain values.' }] }],
    },
  },
);
