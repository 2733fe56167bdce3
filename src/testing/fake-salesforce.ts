// A small local Salesforce org over real HTTP, for the tests, the benchmarks and the demo: the
// OAuth token endpoint (JWT bearer: signature and claims checked), SOQL query/queryAll and
// queryMore with 2,000-row batches (child rows count toward the batch; large child sets page
// through their own nextRecordsUrl). It understands only the queries Assay sends. Also builds
// what the org pushes about a kit: an Outbound Message and a Change Data Capture event.
import { createVerify, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { cdcEvent, notificationId, outboundMessage } from './salesforce-messages.js';

export interface FakeOption {
  Id: string;
  Name: string;
  Option_Key__c: string;
  Label_Name__c: string | null;
  Selectable__c: boolean;
  Example_Image_URL__c: string | null;
  Active__c: boolean;
  SystemModstamp: string;
}

export interface FakeLink {
  Id: string;
  optionId: string;
  Selectable__c: boolean;
}

export interface FakeKit {
  Id: string;
  Name: string;
  Kit_Id__c: string;
  Active__c: boolean;
  SystemModstamp: string;
  links: FakeLink[];
}

const BATCH = 2000;
/** Children returned inline with their kit; the rest come from the child nextRecordsUrl. */
const CHILD_INLINE = 200;

let seq = 0;
/** REST's date-time format: `2026-11-23T10:00:00.000+0000`. */
export const sfDateTime = (d = new Date()) => d.toISOString().replace('Z', '+0000');
export function fakeId(prefix: string): string {
  seq++;
  return (prefix + String(seq).padStart(15, '0')).slice(0, 18);
}

/** Who the org is and whom it lets log in (the connected app's client id and the integration user). */
export interface FakeOrgIdentity {
  orgId: string;
  clientId: string;
  username: string;
}

export class FakeSalesforce {
  readonly kits = new Map<string, FakeKit>();
  readonly options = new Map<string, FakeOption>();
  readonly deletedLinks = new Map<string, string>(); // link id → kit id
  requests: { method: string; path: string; callOptions?: string }[] = [];
  tokenRequests = 0;
  apiUsed = 0;
  url = '';
  readonly orgId: string;
  readonly clientId: string;
  readonly username: string;
  readonly keyPath: string;
  private readonly publicKey: string;
  private token = 'fake-token-1';
  private server?: http.Server;
  private cursors = new Map<string, { kind: 'kits'; list: FakeKit[]; offset: number } | { kind: 'children'; rows: unknown[]; offset: number }>();
  private failures: { status: number; body: unknown }[] = [];
  private gate: Promise<void> | null = null;

  constructor(identity: Partial<FakeOrgIdentity> = {}) {
    ({ orgId: this.orgId = '00D5e000000KQ2eEAG', clientId: this.clientId = 'fake-client', username: this.username = 'sync@assay.test' } = identity);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.publicKey = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-sf-'));
    this.keyPath = path.join(dir, 'server.key');
    fs.writeFileSync(this.keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }

  /** Environment for startTestAssay / loadConfig: JWT auth against this org. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { SF_CLIENT_ID: this.clientId, SF_USERNAME: this.username, SF_PRIVATE_KEY_PATH: this.keyPath, SF_LOGIN_URL: this.url, ...extra };
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => this.send(res, 500, [{ message: e.message, errorCode: 'UNKNOWN_EXCEPTION' }]));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    fs.rmSync(path.dirname(this.keyPath), { recursive: true, force: true });
  }

  addOption(key: string, fields: Partial<FakeOption> = {}): FakeOption {
    const o: FakeOption = { Id: fakeId('a1O'), Name: key.replace(/_/g, ' '), Option_Key__c: key, Label_Name__c: null, Selectable__c: true, Example_Image_URL__c: null, Active__c: true, SystemModstamp: sfDateTime(), ...fields };
    this.options.set(o.Id, o);
    return o;
  }

  addKit(kitId: string, name: string, options: FakeOption[], fields: Partial<FakeKit> = {}): FakeKit {
    const k: FakeKit = { Id: fakeId('a0B'), Name: name, Kit_Id__c: kitId, Active__c: true, SystemModstamp: sfDateTime(), links: options.map((o) => ({ Id: fakeId('a2L'), optionId: o.Id, Selectable__c: true })), ...fields };
    this.kits.set(k.Id, k);
    return k;
  }

  /** n kits × m options, shared options (like a real catalog). */
  generate(kits: number, optionsPerKit: number): void {
    const opts = Array.from({ length: optionsPerKit }, (_, i) => this.addOption(`bench_option_${i}`));
    for (let i = 0; i < kits; i++) this.addKit(`BK-${String(i).padStart(6, '0')}`, `Bench kit ${i}`, opts);
  }

  touch(kit: FakeKit, at = new Date()): string {
    kit.SystemModstamp = sfDateTime(at);
    return kit.SystemModstamp;
  }

  /** The next API request(s) fail with this status and body (e.g. 403 REQUEST_LIMIT_EXCEEDED). */
  failNext(status: number, body: unknown, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ status, body });
  }

  /** API requests wait (a slow org) until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    return () => {
      this.gate = null;
      release();
    };
  }

  /** Invalidate the session: the next request gets 401 INVALID_SESSION_ID, a new token works. */
  expireSession(): void {
    this.token = `fake-token-${Date.now()}`;
  }

  get apiRequests(): number {
    return this.requests.length;
  }

  /** The SOAP Outbound Message a Flow sends when a kit record changes. */
  outboundMessage(kit: FakeKit): { body: string; notificationId: string } {
    const id = notificationId();
    const fields = { Id: kit.Id, Active__c: kit.Active__c, Kit_Id__c: kit.Kit_Id__c, Name: kit.Name, SystemModstamp: kit.SystemModstamp };
    return { body: outboundMessage(this.orgId, [{ id, type: 'Test_Kit__c', fields }], { instanceUrl: this.url }), notificationId: id };
  }

  /** A Change Data Capture event (CometD shape) for a created kit, as an Apex relay posts it. */
  changeEvent(kit: FakeKit, replayId: number): Record<string, unknown> {
    const payload = cdcEvent('Test_Kit__c', 'CREATE', [kit.Id], Date.now(), { Name: kit.Name, Kit_Id__c: kit.Kit_Id__c, Active__c: kit.Active__c });
    return { schema: 'fake-schema', payload, event: { replayId } };
  }

  private send(res: http.ServerResponse, status: number, body: unknown) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'sforce-limit-info': `api-usage=${this.apiUsed}/15000` });
    res.end(text);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'POST' && url.pathname === '/services/oauth2/token') return this.tokenEndpoint(res, body);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, callOptions: req.headers['sforce-call-options'] as string | undefined });
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.send(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    this.apiUsed++;
    if (this.gate) await this.gate;
    const failure = this.failures.shift();
    if (failure) return this.send(res, failure.status, failure.body);
    const m = /^\/services\/data\/v(\d+\.\d)\/(query|queryAll)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return this.send(res, 404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
    if (m[3]) return this.queryMore(res, m[1]!, m[3]);
    return this.query(res, m[1]!, url.searchParams.get('q') ?? '', m[2] === 'queryAll');
  }

  private tokenEndpoint(res: http.ServerResponse, body: string) {
    this.tokenRequests++;
    const params = new URLSearchParams(body);
    const assertion = params.get('assertion') ?? '';
    const valid = params.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && this.validAssertion(assertion);
    if (!valid) return this.send(res, 400, { error: 'invalid_grant', error_description: 'invalid assertion' });
    this.send(res, 200, { access_token: this.token, instance_url: this.url, id: `${this.url}/id/${this.orgId}/005000000000001AAA`, token_type: 'Bearer', scope: 'api', issued_at: String(Date.now()), signature: 'x' });
  }

  /** Signed with the connected app's key, issued by its client id for the integration user, not expired. */
  private validAssertion(assertion: string): boolean {
    const [h, c, s] = assertion.split('.');
    if (!h || !c || !s || !createVerify('RSA-SHA256').update(`${h}.${c}`).verify(this.publicKey, Buffer.from(s, 'base64url'))) return false;
    let claims: { iss?: string; sub?: string; exp?: number };
    try {
      claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return false;
    }
    return claims.iss === this.clientId && claims.sub === this.username && (claims.exp ?? 0) * 1000 > Date.now();
  }

  private ids(q: string): Set<string> | null {
    const m = /WHERE Id IN \(([^)]*)\)/.exec(q);
    return m ? new Set([...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!)) : null;
  }

  private query(res: http.ServerResponse, version: string, q: string, all: boolean) {
    const ids = this.ids(q);
    if (/FROM AI_Option__c\b/.test(q)) {
      const records = [...this.options.values()].filter((o) => !ids || ids.has(o.Id)).map((o) => ({ attributes: { type: 'AI_Option__c' }, ...o }));
      return this.send(res, 200, { totalSize: records.length, done: true, records });
    }
    if (/FROM Kit_AI_Option__c\b/.test(q)) {
      const records: unknown[] = [];
      for (const k of this.kits.values()) for (const l of k.links) if (!ids || ids.has(l.Id)) records.push({ attributes: { type: 'Kit_AI_Option__c' }, Id: l.Id, Test_Kit__c: k.Id });
      if (all) for (const [linkId, kitId] of this.deletedLinks) if (!ids || ids.has(linkId)) records.push({ attributes: { type: 'Kit_AI_Option__c' }, Id: linkId, Test_Kit__c: kitId });
      return this.send(res, 200, { totalSize: records.length, done: true, records });
    }
    if (/FROM Test_Kit__c\b/.test(q)) {
      const list = [...this.kits.values()].filter((k) => !ids || ids.has(k.Id)).sort((a, b) => a.Kit_Id__c.localeCompare(b.Kit_Id__c));
      return this.kitPage(res, version, list, 0);
    }
    this.send(res, 400, [{ message: `fake org does not understand: ${q.slice(0, 80)}`, errorCode: 'MALFORMED_QUERY' }]);
  }

  private queryMore(res: http.ServerResponse, version: string, locator: string) {
    const cursor = this.cursors.get(locator);
    if (!cursor) return this.send(res, 400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
    this.cursors.delete(locator);
    if (cursor.kind === 'kits') return this.kitPage(res, version, cursor.list, cursor.offset);
    const rows = cursor.rows.slice(cursor.offset, cursor.offset + BATCH);
    const next = cursor.offset + BATCH < cursor.rows.length ? this.cursor(version, { kind: 'children', rows: cursor.rows, offset: cursor.offset + BATCH }) : undefined;
    this.send(res, 200, { totalSize: cursor.rows.length, done: !next, records: rows, ...(next ? { nextRecordsUrl: next } : {}) });
  }

  private cursor(version: string, c: typeof this.cursors extends Map<string, infer V> ? V : never): string {
    const locator = `01gFAKE${String(++seq).padStart(10, '0')}-${c.offset}`;
    this.cursors.set(locator, c);
    return `/services/data/v${version}/query/${locator}`;
  }

  private linkRecord(l: FakeLink) {
    const o = this.options.get(l.optionId)!;
    return { attributes: { type: 'Kit_AI_Option__c' }, Id: l.Id, Selectable__c: l.Selectable__c, AI_Option__r: { attributes: { type: 'AI_Option__c' }, ...o } };
  }

  private kitPage(res: http.ServerResponse, version: string, list: FakeKit[], offset: number) {
    const records: unknown[] = [];
    let rows = 0;
    let i = offset;
    for (; i < list.length; i++) {
      const k = list[i]!;
      const inline = Math.min(k.links.length, CHILD_INLINE);
      if (records.length > 0 && rows + 1 + inline > BATCH) break;
      rows += 1 + inline;
      const children = k.links.map((l) => this.linkRecord(l));
      const childNext = children.length > CHILD_INLINE ? this.cursor(version, { kind: 'children', rows: children, offset: CHILD_INLINE }) : undefined;
      const { links: _links, ...fields } = k;
      records.push({
        attributes: { type: 'Test_Kit__c', url: `/services/data/v${version}/sobjects/Test_Kit__c/${k.Id}` },
        ...fields,
        Kit_AI_Options__r: children.length ? { totalSize: children.length, done: !childNext, records: children.slice(0, CHILD_INLINE), ...(childNext ? { nextRecordsUrl: childNext } : {}) } : null,
      });
    }
    const next = i < list.length ? this.cursor(version, { kind: 'kits', list, offset: i }) : undefined;
    this.send(res, 200, { totalSize: list.length, done: !next, records, ...(next ? { nextRecordsUrl: next } : {}) });
  }
}
