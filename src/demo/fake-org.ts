// A small local Salesforce org for the demo: the OAuth token endpoint (JWT bearer, checked
// against the demo's public key) and the REST query endpoints Assay's sync reads, answering the
// kit/option queries from records held in memory. Also builds the messages the org would push:
// a SOAP Outbound Message for a kit and a Change Data Capture event.
import http from 'node:http';
import { createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { cdcEvent, outboundMessage } from '../testing/salesforce-messages.js';

export interface OrgOption {
  Id: string;
  Name: string;
  Option_Key__c: string;
  Label_Name__c: string | null;
  Selectable__c: boolean;
  Example_Image_URL__c: string | null;
  Active__c: boolean;
  SystemModstamp: string;
}

export interface OrgKit {
  Id: string;
  Name: string;
  Kit_Id__c: string;
  Active__c: boolean;
  SystemModstamp: string;
  links: { Id: string; optionId: string; Selectable__c: boolean }[];
}

export const DEMO_ORG_ID = '00D5e000000DEMOEAA';
const API = /^\/services\/data\/v\d+\.\d\/(query|queryAll)\/?$/;

export class FakeOrg {
  readonly kits = new Map<string, OrgKit>();
  readonly options = new Map<string, OrgOption>();
  /** REST requests answered (token requests apart), for the demo's summary line. */
  queries = 0;
  tokens = 0;
  readonly privateKeyPem: string;
  private readonly publicKeyPem: string;
  private readonly accessToken = `00D5e000000DEMO!${randomUUID()}`;
  private server: http.Server | undefined;
  base = '';
  private ids = 0;

  constructor(readonly clientId = 'demo-connected-app', readonly username = 'assay-demo@example.com') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** An 18-character Salesforce id with the object's key prefix. */
  newId(prefix: string): string {
    return `${prefix}5e0DEMO${String(++this.ids).padStart(5, '0')}AAA`;
  }

  addOption(key: string, o: Partial<OrgOption> = {}): OrgOption {
    const option: OrgOption = { Id: this.newId('a0A'), Name: key, Option_Key__c: key, Label_Name__c: null, Selectable__c: true, Example_Image_URL__c: null, Active__c: true, SystemModstamp: new Date().toISOString(), ...o };
    this.options.set(option.Id, option);
    return option;
  }

  addKit(kitId: string, name: string, optionKeys: string[]): OrgKit {
    const byKey = new Map([...this.options.values()].map((o) => [o.Option_Key__c, o]));
    const kit: OrgKit = {
      Id: this.newId('a0B'),
      Name: name,
      Kit_Id__c: kitId,
      Active__c: true,
      SystemModstamp: new Date().toISOString(),
      links: optionKeys.map((k) => ({ Id: this.newId('a0C'), optionId: byKey.get(k)!.Id, Selectable__c: true })),
    };
    this.kits.set(kit.Id, kit);
    return kit;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => this.json(res, 500, [{ errorCode: 'UNKNOWN_EXCEPTION', message: e.message }]));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private json(res: http.ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'sforce-limit-info': `api-usage=${this.queries}/15000` });
    res.end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    if (req.method === 'POST' && url.pathname === '/services/oauth2/token') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' || !this.validAssertion(form.get('assertion') ?? '')) {
        return this.json(res, 400, { error: 'invalid_grant', error_description: 'invalid assertion' });
      }
      this.tokens++;
      return this.json(res, 200, { access_token: this.accessToken, instance_url: this.base, id: `${this.base}/id/${DEMO_ORG_ID}/0055e000001DEMOAAA`, token_type: 'Bearer', scope: 'api', issued_at: String(Date.now()), signature: 'demo' });
    }
    const match = API.exec(url.pathname);
    if (req.method !== 'GET' || !match) return this.json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    if (req.headers.authorization !== `Bearer ${this.accessToken}`) return this.json(res, 401, [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }]);
    this.queries++;
    return this.json(res, 200, this.query(url.searchParams.get('q') ?? ''));
  }

  private validAssertion(assertion: string): boolean {
    const [header, claims, signature] = assertion.split('.');
    if (!header || !claims || !signature) return false;
    const ok = createVerify('RSA-SHA256').update(`${header}.${claims}`).verify(this.publicKeyPem, Buffer.from(signature, 'base64url'));
    const c = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { iss?: string; sub?: string; exp?: number };
    return ok && c.iss === this.clientId && c.sub === this.username && (c.exp ?? 0) * 1000 > Date.now();
  }

  /** Just enough SOQL: `FROM <object>` and an optional `WHERE Id IN (...)` on the outer query. */
  private query(soql: string): Record<string, unknown> {
    const outer = soql.replace(/\([^()]*\bSELECT\b[^()]*\)/gi, '');
    const from = /\bFROM\s+(\w+)/i.exec(outer)?.[1] ?? '';
    const idsText = /\bWHERE\s+(?:Id)\s+IN\s*\(([^)]*)\)/i.exec(outer)?.[1];
    const ids = idsText ? new Set([...idsText.matchAll(/'([^']+)'/g)].map((m) => m[1]!)) : null;
    const pick = <T extends { Id: string }>(rows: Iterable<T>) => [...rows].filter((r) => !ids || ids.has(r.Id));
    const attrs = (type: string, id: string) => ({ type, url: `/services/data/v62.0/sobjects/${type}/${id}` });
    const optionRecord = (o: OrgOption) => ({ attributes: attrs('AI_Option__c', o.Id), ...o });
    let records: Record<string, unknown>[] = [];
    if (/kit/i.test(from) && !/option/i.test(from)) {
      records = pick(this.kits.values())
        .sort((a, b) => a.Kit_Id__c.localeCompare(b.Kit_Id__c))
        .map((k) => {
          const { links, ...fields } = k;
          const children = links.map((l) => ({ attributes: attrs('Kit_AI_Option__c', l.Id), Id: l.Id, Selectable__c: l.Selectable__c, AI_Option__r: optionRecord(this.options.get(l.optionId)!) }));
          return { attributes: attrs('Test_Kit__c', k.Id), ...fields, Kit_AI_Options__r: children.length ? { totalSize: children.length, done: true, records: children } : null };
        });
    } else if (/^kit_ai_option/i.test(from) || /link/i.test(from)) {
      records = [...this.kits.values()].flatMap((k) => k.links.filter((l) => !ids || ids.has(l.Id)).map((l) => ({ attributes: attrs('Kit_AI_Option__c', l.Id), Id: l.Id, Test_Kit__c: k.Id })));
    } else if (/option/i.test(from)) {
      records = pick(this.options.values()).map(optionRecord);
    }
    return { totalSize: records.length, done: true, records };
  }

  /** The SOAP Outbound Message a Flow sends when a kit record changes. */
  outboundMessage(kit: OrgKit, orgId = DEMO_ORG_ID): { body: string; notificationId: string } {
    const notificationId = this.newId('04l');
    const fields = { Id: kit.Id, Active__c: kit.Active__c, Kit_Id__c: kit.Kit_Id__c, Name: kit.Name, SystemModstamp: kit.SystemModstamp };
    const body = outboundMessage(orgId, [{ id: notificationId, type: 'Test_Kit__c', fields }], { actionId: '04k5e000000DEMOAAA', instanceUrl: this.base });
    return { body, notificationId };
  }

  /** A Change Data Capture event (CometD shape) for a created kit, as an Apex relay posts it. */
  changeEvent(kit: OrgKit, replayId: number): Record<string, unknown> {
    const payload = cdcEvent('Test_Kit__c', 'CREATE', [kit.Id], Date.now(), { Name: kit.Name, Kit_Id__c: kit.Kit_Id__c, Active__c: kit.Active__c });
    return { schema: 'demo-schema', payload, event: { replayId } };
  }
}
