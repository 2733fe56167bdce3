// One authenticated REST client for the org: jsforce (plain, JWT bearer with our own refreshFn)
// or @salesforce/core's connection for an SFDX alias. Every request says `client=assay` in
// Sforce-Call-Options, so CDC events caused by Assay carry it in changeOrigin and are skipped.
import type { Config } from '../config/index.js';
import { mintJwtToken, type JwtAuth } from './jwt.js';
import { RetryableSalesforceError, SalesforceNotConfiguredError } from '../services/ports/catalog-source.js';

export const ASSAY_CLIENT_ID = 'assay';
const CALL_OPTIONS = { 'Sforce-Call-Options': `client=${ASSAY_CLIENT_ID}` };

export class SalesforceApiError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'SalesforceApiError';
  }
}

export interface TransportRetry {
  maxRetries?: number;
  minTimeout?: number;
}

interface RestConnection {
  request<T>(req: { method: 'GET'; url: string; headers?: Record<string, string> }, options?: object): Promise<T>;
  limitInfo?: { apiUsage?: { used: number; limit: number } };
}

const RETRYABLE_CODES = new Set(['REQUEST_LIMIT_EXCEEDED', 'SERVER_UNAVAILABLE', 'UNABLE_TO_LOCK_ROW', 'ERROR_HTTP_500', 'ERROR_HTTP_502', 'ERROR_HTTP_503', 'ERROR_HTTP_504', 'ERROR_HTTP_429', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']);

function classify(err: unknown): Error {
  const e = err as { errorCode?: string; name?: string; code?: string; message?: string };
  const code = String(e?.errorCode ?? e?.code ?? e?.name ?? 'UNKNOWN');
  const message = `Salesforce ${code}: ${e?.message ?? String(err)}`;
  if (RETRYABLE_CODES.has(code) || /^ERROR_HTTP_5\d\d$/.test(code)) return new RetryableSalesforceError(message, code);
  return new SalesforceApiError(message, code);
}

export class SalesforceClient {
  /** REST requests sent (token requests not included): the reconcile benchmark's figure. */
  calls = 0;
  tokenRequests = 0;
  private connection?: Promise<RestConnection>;

  constructor(
    private readonly config: Config['salesforce'],
    private readonly options: { retry?: TransportRetry } = {},
  ) {}

  get version(): string {
    return this.config.apiVersion;
  }

  /** Last `Sforce-Limit-Info` api-usage seen, e.g. {used: 18, limit: 15000}. */
  apiUsage(): { used: number; limit: number } | undefined {
    return this.current?.limitInfo?.apiUsage;
  }

  private current?: RestConnection;

  private connect(): Promise<RestConnection> {
    this.connection ??= this.open().then(
      (c) => (this.current = c),
      (e) => {
        this.connection = undefined; // a failed login is retried by the next call
        throw e;
      },
    );
    return this.connection;
  }

  private async open(): Promise<RestConnection> {
    const sf = this.config;
    if (sf.jwt) {
      const auth: JwtAuth = { ...sf.jwt, loginUrl: sf.loginUrl };
      const mint = async () => {
        this.tokenRequests++;
        return mintJwtToken(auth);
      };
      const token = await mint();
      // jsforce (~30 MB) loads on the first Salesforce call, not when the process starts.
      const { Connection } = await import('jsforce');
      return new Connection({
        loginUrl: sf.loginUrl,
        instanceUrl: sf.instanceUrl ?? token.instance_url,
        accessToken: token.access_token,
        version: sf.apiVersion,
        callOptions: { client: ASSAY_CLIENT_ID },
        // INVALID_SESSION_ID: jsforce calls this, then replays the request that got the 401.
        refreshFn: async (conn, callback) => {
          try {
            const t = await mint();
            if (!sf.instanceUrl) conn.instanceUrl = t.instance_url;
            callback(null, t.access_token, t as never);
          } catch (e) {
            callback(e as Error);
          }
        },
      }) as unknown as RestConnection;
    }
    if (sf.alias) return openAliasConnection(sf.alias, sf.apiVersion);
    throw new SalesforceNotConfiguredError();
  }

  /** GET a REST resource: a path from the version root (`/query?q=`) or from the host (`/services/data/...`). */
  async get<T>(path: string): Promise<T> {
    const conn = await this.connect();
    this.calls++;
    try {
      return await conn.request<T>({ method: 'GET', url: path, headers: CALL_OPTIONS }, this.options.retry ? { retry: this.options.retry } : {});
    } catch (e) {
      throw classify(e);
    }
  }
}

/** SF_ALIAS: an org authorised with `sf org login jwt --alias ...`; @salesforce/core keeps and refreshes its auth file. */
export async function openAliasConnection(alias: string, version: string): Promise<RestConnection> {
  const { Org } = await import('@salesforce/core');
  const org = await Org.create({ aliasOrUsername: alias });
  const conn = org.getConnection(version);
  return conn as unknown as RestConnection;
}

export function salesforceApiConfigured(config: Config['salesforce']): boolean {
  return Boolean(config.jwt || config.alias);
}
