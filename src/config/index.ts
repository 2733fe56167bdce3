// The only reader of process.env. Every setting is validated here once; a bad value or a
// half-configured integration stops start-up with one line naming the variable.
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';

export { ConfigError };

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = (protocols: string[]) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, `must be a URL starting with ${protocols.join(' or ')}//`)
      .optional(),
  );
const int = (def: number, min = 0) => z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).default(def));
const bool = (def: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  );
const csv = z.preprocess(emptyToUndefined, z.string().optional()).transform((v) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const envSchema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
  PORT: int(3000, 0).refine((p) => p <= 65535, 'must be a port number (0-65535)'),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  ASSAY_PUBLIC_URL: optionalUrl(['http:', 'https:']),
  ASSAY_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  ASSAY_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  ASSAY_ADMIN_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  ASSAY_METRICS_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  ASSAY_METRICS_PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).optional()),

  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  MONGODB_URL: optionalUrl(['mongodb:', 'mongodb+srv:']),

  SLACK_BOT_TOKEN: z.preprocess(emptyToUndefined, z.string().regex(/^xoxb-/, 'must be a bot token (xoxb-...)').optional()),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: z.preprocess(emptyToUndefined, z.string().regex(/^xapp-/, 'must be an app-level token (xapp-...)').optional()),
  SLACK_OPS_CHANNEL: optionalString,
  SLACK_APPROVER_GROUP: z.preprocess(emptyToUndefined, z.string().regex(/^S[A-Z0-9]+$/, 'must be a Slack user group id (S...)').optional()),
  SLACK_API_URL: optionalUrl(['http:', 'https:']),
  ASSAY_APPROVERS: csv.pipe(z.array(z.string().regex(/^[UW][A-Z0-9]+$/, 'must be a comma-separated list of Slack user ids (U...)'))),

  SF_LOGIN_URL: z.preprocess(emptyToUndefined, optionalUrl(['https:', 'http:']).default('https://login.salesforce.com')),
  SF_INSTANCE_URL: optionalUrl(['https:', 'http:']),
  SF_CLIENT_ID: optionalString,
  SF_USERNAME: optionalString,
  SF_PRIVATE_KEY_PATH: optionalString,
  SF_ALIAS: optionalString,
  SF_API_VERSION: z.preprocess(emptyToUndefined, z.string().regex(/^\d+\.\d$/, 'must look like 62.0').default('62.0')),
  SF_WEBHOOK_SECRET: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  SF_ORG_ID: z.preprocess(emptyToUndefined, z.string().regex(/^00D[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$/, 'must be an org id (00D...)').optional()),
  SF_OUTBOUND_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  SF_RECONCILE_INTERVAL: z.preprocess(emptyToUndefined, z.string().default('1 hour')),
  SF_MAX_CLOCK_SKEW_SECONDS: int(300, 0),
  SF_KIT_OBJECT: z.preprocess(emptyToUndefined, z.string().default('Test_Kit__c')),
  SF_OPTION_OBJECT: z.preprocess(emptyToUndefined, z.string().default('AI_Option__c')),
  SF_LINK_OBJECT: z.preprocess(emptyToUndefined, z.string().default('Kit_AI_Option__c')),
  SF_LINK_RELATIONSHIP: z.preprocess(emptyToUndefined, z.string().default('Kit_AI_Options__r')),

  STORAGE_DIR: optionalString,
  S3_BUCKET: optionalString,
  S3_REGION: optionalString,
  S3_ENDPOINT: optionalUrl(['https:', 'http:']),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_FORCE_PATH_STYLE: bool(false),

  TRAINER_URL: optionalUrl(['https:', 'http:']),
  TRAINER_SECRET: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),

  DATASET_MAX_BYTES: int(200 * 1024 * 1024, 1),
  DATASET_FETCH_TIMEOUT_MS: int(60_000, 1),
  DATASET_MAX_IMAGE_PIXELS: int(40_000_000, 1),
  DATASET_DECODE_CONCURRENCY: int(2, 1),
  ASSAY_ALLOW_HTTP_FETCH: bool(false),
  ASSAY_ALLOW_PRIVATE_FETCH: bool(false),
  TRAINING_CONCURRENCY: int(1, 1),
  TRAINING_THREADS: int(0, 0),
  JOB_LOCK_LIFETIME_MS: int(120_000, 1000),
  ASSAY_SHUTDOWN_TIMEOUT_MS: int(25_000, 0),
  EDGE_STALE_AFTER_MINUTES: int(15, 1),
  DOWNLOAD_URL_TTL_SECONDS: int(900, 1),
  WIZARD_TTL_MINUTES: int(60, 1),
});

type Env = z.infer<typeof envSchema>;

/** Groups of variables that only make sense together. */
const groups: { name: string; vars: (keyof Env)[]; required: (keyof Env)[] }[] = [
  { name: 'Slack', vars: ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET'], required: ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET'] },
  { name: 'Salesforce JWT', vars: ['SF_CLIENT_ID', 'SF_USERNAME', 'SF_PRIVATE_KEY_PATH'], required: ['SF_CLIENT_ID', 'SF_USERNAME', 'SF_PRIVATE_KEY_PATH'] },
  { name: 'Salesforce Outbound Messages', vars: ['SF_ORG_ID', 'SF_OUTBOUND_TOKEN'], required: ['SF_ORG_ID', 'SF_OUTBOUND_TOKEN'] },
  { name: 'S3', vars: ['S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_ENDPOINT'], required: ['S3_BUCKET'] },
  { name: 'S3 credentials', vars: ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'], required: ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] },
  { name: 'remote trainer', vars: ['TRAINER_URL', 'TRAINER_SECRET'], required: ['TRAINER_URL', 'TRAINER_SECRET'] },
];

function check(env: Env): void {
  for (const g of groups) {
    const set = g.vars.filter((v) => env[v] !== undefined);
    if (set.length === 0) continue;
    const missing = g.required.find((v) => env[v] === undefined);
    if (missing) throw new ConfigError(`${missing} is required when ${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set (${g.name})`);
  }
  if (env.SLACK_APP_TOKEN && !env.SLACK_BOT_TOKEN) {
    throw new ConfigError('SLACK_BOT_TOKEN is required when SLACK_APP_TOKEN is set (Slack Socket Mode)');
  }
}

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  publicUrl: string;
  dataDir: string;
  /** Signs download URLs and derives other keys. From ASSAY_SECRET, else made once per data folder. */
  secret: string | undefined;
  adminToken: string | undefined;
  /** GET /metrics: bearer token (off without it), and an optional port of its own. */
  metrics: { token: string | undefined; port: number | undefined };
  database: { url: string | undefined; embeddedDir: string };
  mongodbUrl: string | undefined;
  slack:
    | {
        botToken: string;
        signingSecret: string;
        appToken: string | undefined;
        opsChannel: string | undefined;
        approverGroup: string | undefined;
        apiUrl: string | undefined;
      }
    | undefined;
  approvers: string[];
  salesforce: {
    loginUrl: string;
    instanceUrl: string | undefined;
    apiVersion: string;
    jwt: { clientId: string; username: string; privateKeyPath: string } | undefined;
    alias: string | undefined;
    webhookSecret: string | undefined;
    outbound: { orgId: string; token: string } | undefined;
    reconcileInterval: string;
    /** Salesforce timestamps further in the future than this are clamped to now (and reported). */
    maxClockSkewSeconds: number;
    objects: { kit: string; option: string; link: string; linkRelationship: string };
  };
  storage: {
    dir: string;
    s3:
      | { bucket: string; region: string; endpoint: string | undefined; accessKeyId: string | undefined; secretAccessKey: string | undefined; forcePathStyle: boolean }
      | undefined;
  };
  trainer: { url: string; secret: string } | undefined;
  fetch: { maxBytes: number; timeoutMs: number; allowHttp: boolean; allowPrivate: boolean };
  /** Dataset images: refused above maxPixels from their header; at most `concurrency` decodes at once per process. */
  images: { maxPixels: number; concurrency: number };
  trainingConcurrency: number;
  /** Data-parallel replicas per in-process training (undefined: one per core). */
  trainingThreads?: number;
  /** How long a running job's lock lasts without a heartbeat before another worker may take it over. */
  jobLockLifetimeMs: number;
  /** SIGTERM/SIGINT: how long in-flight requests and running jobs get to finish. */
  shutdownTimeoutMs: number;
  edgeStaleAfterMinutes: number;
  downloadUrlTtlSeconds: number;
  wizardTtlMinutes: number;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`${name}: ${issue.message}`);
  }
  const e = parsed.data;
  check(e);
  if (e.NODE_ENV === 'production' && (e.ASSAY_ALLOW_HTTP_FETCH || e.ASSAY_ALLOW_PRIVATE_FETCH)) {
    throw new ConfigError('ASSAY_ALLOW_HTTP_FETCH and ASSAY_ALLOW_PRIVATE_FETCH must not be set when NODE_ENV=production');
  }
  const dataDir = path.resolve(e.ASSAY_DATA_DIR);
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    publicUrl: (e.ASSAY_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    dataDir,
    secret: e.ASSAY_SECRET,
    adminToken: e.ASSAY_ADMIN_TOKEN,
    metrics: { token: e.ASSAY_METRICS_TOKEN, port: e.ASSAY_METRICS_PORT },
    database: { url: e.DATABASE_URL, embeddedDir: path.join(dataDir, 'db') },
    mongodbUrl: e.MONGODB_URL,
    slack: e.SLACK_BOT_TOKEN
      ? {
          botToken: e.SLACK_BOT_TOKEN,
          signingSecret: e.SLACK_SIGNING_SECRET!,
          appToken: e.SLACK_APP_TOKEN,
          opsChannel: e.SLACK_OPS_CHANNEL,
          approverGroup: e.SLACK_APPROVER_GROUP,
          apiUrl: e.SLACK_API_URL,
        }
      : undefined,
    approvers: e.ASSAY_APPROVERS,
    salesforce: {
      loginUrl: e.SF_LOGIN_URL,
      instanceUrl: e.SF_INSTANCE_URL,
      apiVersion: e.SF_API_VERSION,
      jwt: e.SF_CLIENT_ID ? { clientId: e.SF_CLIENT_ID, username: e.SF_USERNAME!, privateKeyPath: e.SF_PRIVATE_KEY_PATH! } : undefined,
      alias: e.SF_ALIAS,
      webhookSecret: e.SF_WEBHOOK_SECRET,
      outbound: e.SF_ORG_ID ? { orgId: e.SF_ORG_ID, token: e.SF_OUTBOUND_TOKEN! } : undefined,
      reconcileInterval: e.SF_RECONCILE_INTERVAL,
      maxClockSkewSeconds: e.SF_MAX_CLOCK_SKEW_SECONDS,
      objects: { kit: e.SF_KIT_OBJECT, option: e.SF_OPTION_OBJECT, link: e.SF_LINK_OBJECT, linkRelationship: e.SF_LINK_RELATIONSHIP },
    },
    storage: {
      dir: path.resolve(e.STORAGE_DIR ?? path.join(dataDir, 'artifacts')),
      s3: e.S3_BUCKET
        ? {
            bucket: e.S3_BUCKET,
            region: e.S3_REGION ?? 'us-east-1',
            endpoint: e.S3_ENDPOINT,
            accessKeyId: e.S3_ACCESS_KEY_ID,
            secretAccessKey: e.S3_SECRET_ACCESS_KEY,
            forcePathStyle: e.S3_FORCE_PATH_STYLE,
          }
        : undefined,
    },
    trainer: e.TRAINER_URL ? { url: e.TRAINER_URL.replace(/\/$/, ''), secret: e.TRAINER_SECRET! } : undefined,
    fetch: { maxBytes: e.DATASET_MAX_BYTES, timeoutMs: e.DATASET_FETCH_TIMEOUT_MS, allowHttp: e.ASSAY_ALLOW_HTTP_FETCH, allowPrivate: e.ASSAY_ALLOW_PRIVATE_FETCH },
    images: { maxPixels: e.DATASET_MAX_IMAGE_PIXELS, concurrency: e.DATASET_DECODE_CONCURRENCY },
    trainingConcurrency: e.TRAINING_CONCURRENCY,
    /** Data-parallel replicas per in-process training; undefined = one per core. */
    trainingThreads: e.TRAINING_THREADS || undefined,
    jobLockLifetimeMs: e.JOB_LOCK_LIFETIME_MS,
    shutdownTimeoutMs: e.ASSAY_SHUTDOWN_TIMEOUT_MS,
    edgeStaleAfterMinutes: e.EDGE_STALE_AFTER_MINUTES,
    downloadUrlTtlSeconds: e.DOWNLOAD_URL_TTL_SECONDS,
    wizardTtlMinutes: e.WIZARD_TTL_MINUTES,
  };
}

/** Every secret the configuration holds: the logger masks them wherever they would appear. */
export function configSecrets(config: Config): string[] {
  return [
    config.secret,
    config.adminToken,
    config.metrics.token,
    config.slack?.botToken,
    config.slack?.signingSecret,
    config.slack?.appToken,
    config.salesforce.webhookSecret,
    config.salesforce.outbound?.token,
    config.storage.s3?.secretAccessKey,
    config.trainer?.secret,
  ].filter((s): s is string => !!s);
}

/** One line per integration that is off, with the reason, for the start-up log. */
export function integrationsOff(config: Config): string[] {
  const off: string[] = [];
  if (!config.slack) off.push('Slack (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set)');
  if (!config.salesforce.jwt && !config.salesforce.alias) off.push('Salesforce API sync (neither SF_CLIENT_ID/SF_USERNAME/SF_PRIVATE_KEY_PATH nor SF_ALIAS is set)');
  if (!config.salesforce.webhookSecret) off.push('Salesforce change webhook (SF_WEBHOOK_SECRET is not set)');
  if (!config.salesforce.outbound) off.push('Salesforce Outbound Messages (SF_ORG_ID and SF_OUTBOUND_TOKEN are not set)');
  if (!config.trainer) off.push('remote trainer (TRAINER_URL is not set; training runs in-process)');
  if (config.approvers.length === 0 && !config.slack?.approverGroup) off.push('approvals (ASSAY_APPROVERS and SLACK_APPROVER_GROUP are not set; nobody can approve)');
  return off;
}
