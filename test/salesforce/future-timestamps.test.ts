// Finding 10 of the adversarial review: a far-future SystemModstamp froze a kit (every later real
// change looked stale). Timestamps beyond SF_MAX_CLOCK_SKEW_SECONDS are clamped to now and said
// (ops notice → audit_log, Slack ops channel); one stored before this fix orders nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditLogEntry } from '../../src/db/entities/index.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { notificationId, OUTBOUND_TOKEN, outboundMessage, postOutbound } from './support.js';
import { waitFor } from '../helpers/wait.js';

const ORG = '00D5e000000KQ2eEAG';
let assay: TestAssay;
const q = (sql: string, params: unknown[] = []) => assay.ctx.db.dataSource.query(sql, params);
const settled = (key: string) =>
  waitFor(`event ${key} processed`, async () => {
    const [row] = await q(`SELECT * FROM salesforce_events WHERE event_key = $1`, [key]);
    return row && row.status !== 'received' ? row : null;
  });
const send = async (sfId: string, kitId: string, name: string, stamp: string) => {
  const id = notificationId();
  const r = await postOutbound(assay.url, outboundMessage(ORG, [{ id, type: 'Test_Kit__c', fields: { Id: sfId, Active__c: true, Kit_Id__c: kitId, Name: name, SystemModstamp: stamp } }]));
  expect(r.status).toBe(200);
  return settled(`om:${id}`);
};
const kit = async (kitId: string) => (await q(`SELECT kit_name, sf_last_modified_at FROM test_types WHERE kit_id = $1`, [kitId]))[0];

beforeAll(async () => {
  assay = await startTestAssay({ SF_ORG_ID: ORG, SF_OUTBOUND_TOKEN: OUTBOUND_TOKEN, SF_RECONCILE_INTERVAL: 'off', SF_MAX_CLOCK_SKEW_SECONDS: '120' });
});
afterAll(async () => assay?.stop());

describe('far-future Salesforce timestamps', () => {
  it('are clamped to now and reported, so the next real change still applies', async () => {
    const before = Date.now();
    expect(await send('a0B5e00000FuTuREAV', 'KIT-FUTURE', 'Frozen?', '2999-01-01T00:00:00.000Z')).toMatchObject({ status: 'applied' });
    const stored = await kit('KIT-FUTURE');
    expect(stored.kit_name).toBe('Frozen?');
    expect(new Date(stored.sf_last_modified_at).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(new Date(stored.sf_last_modified_at).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    const notice = await waitFor('the notice', () => assay.ctx.db.dataSource.manager.findOneBy(AuditLogEntry, { action: 'notice.salesforce_future_timestamp', entityId: 'a0B5e00000FuTuREAV' }));
    expect(notice.details).toMatchObject({ given: '2999-01-01T00:00:00.000Z', text: expect.stringMatching(/kit KIT-FUTURE "Frozen\?" .* SystemModstamp 2999-01-01T00:00:00\.000Z, more than 120 s in the future; stored as /) });

    // Within the skew is fine (clocks differ a little); later real changes apply.
    const soon = new Date(Date.now() + 60_000).toISOString();
    expect(await send('a0B5e00000FuTuREAV', 'KIT-FUTURE', 'Thawed', soon)).toMatchObject({ status: 'applied' });
    expect(await kit('KIT-FUTURE')).toMatchObject({ kit_name: 'Thawed' });
    expect(new Date((await kit('KIT-FUTURE')).sf_last_modified_at).toISOString()).toBe(soon);
    expect(await assay.ctx.db.dataSource.manager.countBy(AuditLogEntry, { action: 'notice.salesforce_future_timestamp', entityId: 'a0B5e00000FuTuREAV' })).toBe(1);
  });

  it('a far-future timestamp stored before the fix no longer freezes the kit', async () => {
    expect(await send('a0B5e00000LeGaCYAV', 'KIT-LEGACY', 'Legacy', new Date().toISOString())).toMatchObject({ status: 'applied' });
    await q(`UPDATE test_types SET sf_last_modified_at = '2999-01-01T00:00:00Z' WHERE kit_id = 'KIT-LEGACY'`);
    expect(await send('a0B5e00000LeGaCYAV', 'KIT-LEGACY', 'Legacy, renamed', new Date().toISOString())).toMatchObject({ status: 'applied' });
    expect(await kit('KIT-LEGACY')).toMatchObject({ kit_name: 'Legacy, renamed' });
  });
});
