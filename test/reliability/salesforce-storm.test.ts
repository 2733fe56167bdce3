// Issue #8, storm: a burst of Salesforce events (signed CDC batches of up to 500 and Outbound
// Messages of up to 100) with 30% duplicates, shuffled order and late arrivals, against the real
// server, worker and a local fake org. Afterwards the catalog equals the org, every unique event
// was stored once and settled once, and every applied event has exactly one audit entry.
// STORM_EVENTS (deliveries, duplicates included) scales it; see DEFAULT_EVENTS for the default.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { FakeSalesforce, fakeId, sfDateTime, type FakeKit, type FakeOption } from '../../src/testing/fake-salesforce.js';
import { cdcEvent, OUTBOUND_TOKEN, outboundMessage, postChangeEvents, postOutbound, WEBHOOK_SECRET, type NotificationSpec } from '../salesforce/support.js';
import { waitFor } from '../helpers/wait.js';
import { OUTBOUND_ACK } from '../../src/salesforce/outbound-message.js';
import { seededRandom } from '../../src/ml/random.js';

const DEFAULT_EVENTS = 1000;
const TOTAL = Number(process.env.STORM_EVENTS ?? DEFAULT_EVENTS);
const DUPLICATE_SHARE = 0.3;
const UNIQUE = Math.round(TOTAL * (1 - DUPLICATE_SHARE));
const PHASES = 8;
const LATE_SHARE = 0.15;

/** mulberry32: deterministic order, duplicates and batch sizes for a given STORM_SEED. */
function rng(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  };
  return { next, int, shuffle, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
const r = rng(Number(process.env.STORM_SEED ?? 8));

type StormEvent = { key: string; channel: 'cdc'; body: ReturnType<typeof cdcEvent> } | { key: string; channel: 'om'; note: NotificationSpec };

let fake: FakeSalesforce;
let assay: TestAssay;
const q = (sql: string, params: unknown[] = []) => assay.ctx.db.dataSource.query(sql, params);

// A virtual clock in the past: every change in the org gets a later SystemModstamp.
let clock = Date.now() - 3 * 3600_000;
const tick = () => new Date((clock += 250));
let omSeq = 0;
const kits: FakeKit[] = [];
const deletedKits: FakeKit[] = [];
const options: FakeOption[] = [];

function kitNote(k: FakeKit): NotificationSpec {
  return { id: `04l${String(++omSeq).padStart(15, '0')}`, type: 'Test_Kit__c', fields: { Id: k.Id, Kit_Id__c: k.Kit_Id__c, Name: k.Name, Active__c: k.Active__c, SystemModstamp: k.SystemModstamp } };
}
function optionNote(o: FakeOption): NotificationSpec {
  return { id: `04l${String(++omSeq).padStart(15, '0')}`, type: 'AI_Option__c', fields: { Id: o.Id, Option_Key__c: o.Option_Key__c, Name: o.Name, Selectable__c: o.Selectable__c, Active__c: o.Active__c, SystemModstamp: o.SystemModstamp } };
}
function cdc(entity: string, type: string, ids: string[], at: Date): StormEvent {
  const body = cdcEvent(entity, type, ids, at.getTime());
  return { key: `cdc:tx:${body.ChangeEventHeader.transactionKey}:1`, channel: 'cdc', body };
}
const om = (note: NotificationSpec): StormEvent => ({ key: `om:${note.id}`, channel: 'om', note });
const viaOm = () => r.next() < 0.3;

/** One change in the org and the event Salesforce sends about it. */
function mutate(): StormEvent {
  const roll = r.next();
  const live = kits.filter((k) => !deletedKits.includes(k));
  if (roll < 0.06 || live.length < 5) {
    const at = tick();
    const k = fake.addKit(`ST-${String(kits.length).padStart(5, '0')}`, `Storm kit ${kits.length}`, options.filter(() => r.next() < 0.2), { SystemModstamp: sfDateTime(at) });
    kits.push(k);
    return viaOm() ? om(kitNote(k)) : cdc('Test_Kit__c', 'CREATE', [k.Id], at);
  }
  const k = r.pick(live);
  if (roll < 0.08) {
    const at = tick();
    fake.kits.delete(k.Id);
    deletedKits.push(k);
    return cdc('Test_Kit__c', 'DELETE', [k.Id], at);
  }
  if (roll < 0.45) {
    const at = tick();
    if (r.next() < 0.2) k.Active__c = !k.Active__c;
    else k.Name = `Storm kit ${k.Kit_Id__c} ${r.pick(['α', 'rev', 'ü', '🧪'])}${r.int(1000)}`;
    fake.touch(k, at);
    return viaOm() ? om(kitNote(k)) : cdc('Test_Kit__c', 'UPDATE', [k.Id], at);
  }
  if (roll < 0.65) {
    const o = r.pick(options);
    const at = tick();
    if (r.next() < 0.5) o.Selectable__c = !o.Selectable__c;
    else o.Name = `Storm option ${o.Option_Key__c} v${r.int(1000)}`;
    o.SystemModstamp = sfDateTime(at);
    return viaOm() ? om(optionNote(o)) : cdc('AI_Option__c', 'UPDATE', [o.Id], at);
  }
  // Junction changes: the kit's own SystemModstamp stays, as in Salesforce.
  const at = tick();
  const unlinked = options.filter((o) => !k.links.some((l) => l.optionId === o.Id));
  if (roll < 0.85 && unlinked.length) {
    const link = { Id: fakeId('a2L'), optionId: r.pick(unlinked).Id, Selectable__c: r.next() < 0.8 };
    k.links.push(link);
    return cdc('Kit_AI_Option__c', 'CREATE', [link.Id], at);
  }
  if (k.links.length === 0) return cdc('Test_Kit__c', 'UPDATE', [k.Id], new Date(Date.parse(k.SystemModstamp.replace('+0000', 'Z'))));
  const link = k.links.splice(r.int(k.links.length), 1)[0]!;
  fake.deletedLinks.set(link.Id, k.Id);
  return cdc('Kit_AI_Option__c', 'DELETE', [link.Id], at);
}

const chunks = <T>(xs: T[], max: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; ) {
    const n = 1 + r.int(max);
    out.push(xs.slice(i, i + n));
    i += n;
  }
  return out;
};

/** Sends deliveries as Salesforce would: CDC batches ≤500, Outbound Messages ≤100, a few at once. */
async function deliver(list: StormEvent[], tally: { stored: number; duplicates: number; requests: number }) {
  const cdcBatches = chunks(list.filter((e) => e.channel === 'cdc'), 500).map((b) => ({ kind: 'cdc' as const, b }));
  const omBatches = chunks(list.filter((e) => e.channel === 'om'), 100).map((b) => ({ kind: 'om' as const, b }));
  const queue = r.shuffle([...cdcBatches, ...omBatches]);
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        tally.requests++;
        if (next.kind === 'cdc') {
          const res = await postChangeEvents(assay.url, next.b.map((e) => (e as Extract<StormEvent, { channel: 'cdc' }>).body));
          expect(res.status).toBe(200);
          const body = (await res.json()) as { stored: number; duplicates: number };
          tally.stored += body.stored;
          tally.duplicates += body.duplicates;
        } else {
          const res = await postOutbound(assay.url, outboundMessage(fake.orgId, next.b.map((e) => (e as Extract<StormEvent, { channel: 'om' }>).note)));
          expect(res.status).toBe(200);
          expect(await res.text()).toBe(OUTBOUND_ACK);
        }
      }
    }),
  );
}

async function settled() {
  try {
    await waitFor('every stored event settled', async () => (await q(`SELECT count(*)::int AS n FROM salesforce_events WHERE status = 'received'`))[0].n === 0, 120_000);
  } catch (e) {
    const stuck = await q(`SELECT id, event_key, entity_name, change_type, attempts, error FROM salesforce_events WHERE status = 'received' LIMIT 5`);
    const jobs = await assay.ctx.db.pool.query(`SELECT data, fail_reason, fail_count, next_run_at, last_finished_at FROM agenda_jobs WHERE data->>'eventId' = ANY($1::text[])`, [stuck.map((x: { id: string }) => x.id)]);
    throw new Error(`${(e as Error).message}: ${JSON.stringify(stuck)} jobs ${JSON.stringify(jobs.rows)}`);
  }
}

beforeAll(async () => {
  fake = await new FakeSalesforce().start();
  for (let i = 0; i < 40; i++) options.push(fake.addOption(`st_opt_${i}`, { SystemModstamp: sfDateTime(tick()) }));
  assay = await startTestAssay({ ...fake.env(), SF_WEBHOOK_SECRET: WEBHOOK_SECRET, SF_ORG_ID: fake.orgId, SF_OUTBOUND_TOKEN: OUTBOUND_TOKEN, SF_RECONCILE_INTERVAL: 'off' });
});
afterAll(async () => {
  // Drain first, while the stand-in org still answers: a Salesforce request still running when the
  // file ends would go on retrying against a closed port into the next test file.
  await assay?.drain(20_000);
  await assay?.stop();
  await fake?.stop();
});

describe(`Salesforce event storm (${TOTAL} deliveries)`, () => {
  it('ends with the org’s catalog, each unique event stored and settled once, nothing lost', async () => {
    const started = Date.now();
    const tally = { stored: 0, duplicates: 0, requests: 0 };
    const all: StormEvent[] = [];
    let late: StormEvent[] = [];
    let deliveries = 0;
    for (let phase = 0; phase < PHASES; phase++) {
      const fresh = Array.from({ length: Math.round(UNIQUE / PHASES) }, mutate);
      all.push(...fresh);
      const last = phase === PHASES - 1;
      // Some of this phase's events are held back and arrive after newer ones were applied.
      const held = last ? [] : fresh.filter(() => r.next() < LATE_SHARE);
      const now = [...fresh.filter((e) => !held.includes(e)), ...late];
      late = held;
      const dupCount = Math.round(((fresh.length) * DUPLICATE_SHARE) / (1 - DUPLICATE_SHARE));
      const dups = Array.from({ length: dupCount }, () => r.pick(all));
      const batch = r.shuffle([...now, ...dups]);
      deliveries += batch.length;
      await deliver(batch, tally);
      await settled();
    }
    const sentAt = Date.now();
    const unique = new Set(all.map((e) => e.key));
    const cdcUnique = new Set(all.filter((e) => e.channel === 'cdc').map((e) => e.key));

    // Stored once each, nothing lost, nothing left unsettled or failed.
    const rows: { event_key: string; status: string; error: string | null }[] = await q(`SELECT event_key, status, error FROM salesforce_events`);
    expect(rows).toHaveLength(unique.size);
    expect(new Set(rows.map((x) => x.event_key))).toEqual(unique);
    expect(tally.stored).toBe(cdcUnique.size);
    expect(rows.filter((x) => !['applied', 'ignored'].includes(x.status))).toEqual([]);
    const ignored = rows.filter((x) => x.status === 'ignored');
    expect(ignored.filter((x) => !/^stale/.test(x.error ?? ''))).toEqual([]);
    expect(ignored.length).toBeGreaterThan(0); // late arrivals really came after newer changes
    // Applied once: one audit entry per applied event, none for ignored ones, none twice.
    const applied = rows.filter((x) => x.status === 'applied').map((x) => x.event_key);
    const audits: { actor_id: string }[] = await q(`SELECT actor_id FROM audit_log WHERE action = 'catalog.event_applied'`);
    expect(audits).toHaveLength(applied.length);
    expect(new Set(audits.map((a) => a.actor_id))).toEqual(new Set(applied));

    // The catalog equals the org.
    const dbKits: { kit_id: string; salesforce_id: string; kit_name: string; status: string; modstamp: string }[] = await q(
      `SELECT kit_id, salesforce_id, kit_name, status, to_char(sf_last_modified_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+0000"') AS modstamp FROM test_types WHERE kit_id LIKE 'ST-%' ORDER BY kit_id`,
    );
    const dbKit = new Map(dbKits.map((d) => [d.kit_id, d]));
    // A kit deleted in the org is archived, or never stored when it was gone before any read.
    for (const k of deletedKits) expect({ kit: k.Kit_Id__c, status: dbKit.get(k.Kit_Id__c)?.status ?? 'absent' }).toEqual({ kit: k.Kit_Id__c, status: expect.stringMatching(/^(archived|absent)$/) });
    const live = kits.filter((k) => !deletedKits.includes(k));
    expect(live.map((k) => dbKit.get(k.Kit_Id__c))).toEqual(
      live.map((k) => ({ kit_id: k.Kit_Id__c, salesforce_id: k.Id, kit_name: k.Name, status: k.Active__c ? 'active' : 'archived', modstamp: k.SystemModstamp })),
    );
    const dbLinks: { kit_id: string; keys: string[] }[] = await q(
      `SELECT t.kit_id, array_agg(o.name ORDER BY o.name) AS keys FROM test_type_ai_options l JOIN test_types t ON t.id = l.test_type_id JOIN ai_options o ON o.uid = l.ai_option_uid
        WHERE t.kit_id LIKE 'ST-%' GROUP BY t.kit_id`,
    );
    const linksByKit = new Map(dbLinks.map((x) => [x.kit_id, x.keys]));
    for (const k of kits.filter((x) => !deletedKits.includes(x))) {
      const want = k.links.map((l) => fake.options.get(l.optionId)!.Option_Key__c).sort();
      expect({ kit: k.Kit_Id__c, keys: linksByKit.get(k.Kit_Id__c) ?? [] }).toEqual({ kit: k.Kit_Id__c, keys: want });
    }
    const dbOptions: { name: string; salesforce_id: string; description: string; selectable: boolean; active: boolean }[] = await q(
      `SELECT name, salesforce_id, description, selectable, active FROM ai_options WHERE name LIKE 'st_opt_%' ORDER BY salesforce_id`,
    );
    expect(dbOptions).toEqual(
      [...options].sort((a, b) => a.Id.localeCompare(b.Id)).map((o) => ({ name: o.Option_Key__c, salesforce_id: o.Id, description: o.Name, selectable: o.Selectable__c, active: o.Active__c })),
    );

    const seconds = (Date.now() - started) / 1000;
    console.log(
      `storm: ${deliveries} deliveries (${unique.size} unique, ${deliveries - unique.size} duplicates) in ${tally.requests} requests; ` +
        `${applied.length} applied, ${ignored.length} ignored as stale; ${kits.length} kits (${deletedKits.length} deleted), ${options.length} options; ` +
        `${seconds.toFixed(1)} s, ${(deliveries / seconds).toFixed(0)} deliveries/s, ${(unique.size / seconds).toFixed(0)} unique events applied/s (checks ${((Date.now() - sentAt) / 1000).toFixed(1)} s)`,
    );
  }, 600_000);
});
