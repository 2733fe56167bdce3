// Issue 12 item 14: the README's no-code Salesforce path end to end over real HTTP — Outbound
// Messages only, no API credentials: a kit, an option and the junction records (kit ↔ AI option)
// make a kit the wizard offers; and everything Assay cannot apply is refused with the reason or
// listed (/assay status salesforce) and noticed (ops channel), never dropped silently.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { OUTBOUND_ACK } from '../../src/salesforce/outbound-message.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { cdcEvent, notificationId, OUTBOUND_TOKEN, outboundMessage, postChangeEvents, postOutbound, WEBHOOK_SECRET, type NotificationSpec } from './support.js';
import { waitFor } from '../helpers/wait.js';

const ORG = '00D5e000000KQ2eEAG';
const OPS = 'C_OPS';
const KIT_SF = 'a0B5e00000NoCoEEAV';
const BLUE_SF = 'a1O5e00000BlueEEAV';
let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
const q = (sql: string, params: unknown[] = []) => assay.ctx.db.dataSource.query(sql, params);
const eventOf = async (id: string) => (await q(`SELECT status, error, attempts FROM salesforce_events WHERE event_key = $1`, [`om:${id}`]))[0];

const kitNote = (fields: Record<string, string | boolean>): NotificationSpec => ({
  id: notificationId(),
  type: 'Test_Kit__c',
  fields: { Id: KIT_SF, Name: 'Traffic panel', Kit_Id__c: 'KIT-7001', Active__c: true, SystemModstamp: '2026-11-20T10:00:00.000Z', ...fields },
});
const linkNote = (sfId: string, fields: Record<string, string | boolean>): NotificationSpec => ({
  id: notificationId(),
  type: 'Kit_AI_Option__c',
  fields: { Id: sfId, Test_Kit__c: KIT_SF, Selectable__c: true, SystemModstamp: '2026-11-20T10:00:00.000Z', ...fields },
});
async function send(...notes: NotificationSpec[]) {
  const r = await postOutbound(assay.url, outboundMessage(ORG, notes));
  expect(r.status).toBe(200);
  expect(await r.text()).toBe(OUTBOUND_ACK);
}
const linksOf = (kitId: string) =>
  q(`SELECT o.name, l.selectable FROM test_type_ai_options l JOIN test_types t ON t.id = l.test_type_id JOIN ai_options o ON o.uid = l.ai_option_uid WHERE t.kit_id = $1 ORDER BY o.name`, [kitId]);

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  // A real first start: the AI options are seeded, no kit; Salesforce sends the rest. No SF_CLIENT_ID/SF_ALIAS.
  assay = await startTestAssay(
    { ...SLACK_ENV, SLACK_OPS_CHANNEL: OPS, SF_ORG_ID: ORG, SF_OUTBOUND_TOKEN: OUTBOUND_TOKEN, SF_WEBHOOK_SECRET: WEBHOOK_SECRET, SF_RECONCILE_INTERVAL: 'off' },
    { seedIfEmpty: true },
  );
});
afterAll(async () => {
  await assay.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});
beforeEach(() => {
  nock.cleanAll();
  slack = mockSlackApi();
});

describe('the no-code path: Outbound Messages only, no API credentials', () => {
  it('a kit, an option and their junction records make a kit the wizard offers, with its options', async () => {
    expect(await q(`SELECT count(*)::int AS n FROM test_types`)).toEqual([{ n: 0 }]);
    // Deliveries come out of order: a junction before its kit waits for it (not failed, not dropped).
    const early = linkNote('a2L5e00000Lnk1EEAV', { AI_Option__c: 'a1O5e00000RedLEEAV', Unique_Key__c: 'KIT-7001:red_light' });
    await send(early);
    const waiting = await waitFor('the early junction to wait', async () => {
      const e = await eventOf(early.id);
      return e?.error ? e : null;
    });
    expect(waiting).toMatchObject({ status: 'received', error: `waiting for kit ${KIT_SF} (KIT-7001): its Outbound Message has not arrived` });

    // The kit's message; then an option Assay did not know and two more junctions (one by Salesforce id only).
    const kit = kitNote({});
    await send(kit);
    await send({
      id: notificationId(),
      type: 'AI_Option__c',
      fields: { Id: BLUE_SF, Name: 'Blue indicator light is lit', Option_Key__c: 'blue_light', Label_Name__c: 'blue_light', Selectable__c: true, Active__c: true, SystemModstamp: '2026-11-20T10:00:00.000Z' },
    });
    const green = linkNote('a2L5e00000Lnk2EEAV', { AI_Option__c: 'a1O5e00000GrnLEEAV', Unique_Key__c: 'KIT-7001:green_light' });
    const blue = linkNote('a2L5e00000Lnk3EEAV', { AI_Option__c: BLUE_SF });
    const lighting = linkNote('a2L5e00000Lnk4EEAV', { AI_Option__c: 'a1O5e00000PropEEAV', Unique_Key__c: 'KIT-7001:proper_lighting' });
    await send(green, blue, lighting);
    for (const n of [early, kit, green, blue, lighting]) await waitFor(`event ${n.id} applied`, async () => (await eventOf(n.id))?.status === 'applied');
    expect(await linksOf('KIT-7001')).toEqual([
      { name: 'blue_light', selectable: true },
      { name: 'green_light', selectable: true },
      { name: 'proper_lighting', selectable: true },
      { name: 'red_light', selectable: true },
    ]);

    // The wizard's kit picker offers it; step 2 lists its selectable options (never proper_lighting).
    expect((await slashCommand(assay.url, 'train')).status).toBe(200);
    const [update] = await slack.waitFor('views.update');
    const picker = update!.body.view.blocks.find((b: { block_id: string }) => b.block_id === 'kits').element;
    const choice = picker.options.find((o: { text: { text: string } }) => o.text.text === 'Traffic panel (KIT-7001)');
    expect(choice).toBeDefined();
    const step2 = await interaction(
      assay.url,
      viewSubmission({ callbackId: 'wizard_kits', privateMetadata: update!.body.view.private_metadata, values: { kits: { kits: { type: 'multi_static_select', selected_options: [{ value: choice.value }] } } } }),
    );
    expect(step2.json.response_action).toBe('update');
    const optionsText = JSON.stringify(step2.json.view.blocks);
    for (const key of ['red_light', 'green_light', 'blue_light']) expect(optionsText).toContain(key);
    expect(optionsText).not.toContain('proper_lighting');
  });

  it('a junction message orders by SystemModstamp: an older one changes nothing, a newer one does', async () => {
    const newer = linkNote('a2L5e00000Lnk2EEAV', { AI_Option__c: 'a1O5e00000GrnLEEAV', Unique_Key__c: 'KIT-7001:green_light', Selectable__c: false, SystemModstamp: '2026-11-20T12:00:00.000Z' });
    await send(newer);
    await waitFor('the newer junction message', async () => (await eventOf(newer.id))?.status === 'applied');
    const older = linkNote('a2L5e00000Lnk2EEAV', { AI_Option__c: 'a1O5e00000GrnLEEAV', Unique_Key__c: 'KIT-7001:green_light', Selectable__c: true, SystemModstamp: '2026-11-20T11:00:00.000Z' });
    await send(older);
    expect(await waitFor('the older junction message', async () => {
      const e = await eventOf(older.id);
      return e?.status !== 'received' ? e : null;
    })).toMatchObject({ status: 'ignored', error: 'stale: older than an applied message about the same junction' });
    expect(await linksOf('KIT-7001')).toContainEqual({ name: 'green_light', selectable: false });
  });
});

describe('what Assay cannot apply is visible', () => {
  it('a change event without API credentials is refused with the reason; nothing is stored', async () => {
    const before = await q(`SELECT count(*)::int AS n FROM salesforce_events`);
    const r = await postChangeEvents(assay.url, cdcEvent('Test_Kit__c', 'UPDATE', [KIT_SF]));
    expect(r.status).toBe(422);
    expect(((await r.json()) as { error: string }).error).toMatch(/^change events need the Salesforce API to re-read the records they name, and it is not configured .*nothing stored/);
    expect(await q(`SELECT count(*)::int AS n FROM salesforce_events`)).toEqual(before);
  });

  it('an Outbound Message missing what it needs, or for an object Assay does not sync, is refused with the reason', async () => {
    const before = await q(`SELECT count(*)::int AS n FROM salesforce_events`);
    const noKey = await postOutbound(assay.url, outboundMessage(ORG, [{ id: notificationId(), type: 'Test_Kit__c', fields: { Id: KIT_SF, Name: 'No key', SystemModstamp: '2026-11-20T10:00:00.000Z' } }]));
    expect(noKey.status).toBe(422);
    expect(((await noKey.json()) as { error: string }).error).toBe(
      `Notification 1 (Test_Kit__c ${KIT_SF}): Kit_Id__c: is required. Without Salesforce API credentials the Outbound Message must send Id, Name, Kit_Id__c, Active__c, SystemModstamp`,
    );
    const noOption = await postOutbound(assay.url, outboundMessage(ORG, [linkNote('a2L5e00000Lnk9EEAV', {})]));
    expect(noOption.status).toBe(422);
    expect(((await noOption.json()) as { error: string }).error).toMatch(/^Notification 1 \(Kit_AI_Option__c a2L5e00000Lnk9EEAV\): AI_Option__c: is required\. .*must send Id, Test_Kit__c, AI_Option__c, Selectable__c, Unique_Key__c, SystemModstamp$/);
    const account = await postOutbound(assay.url, outboundMessage(ORG, [{ id: notificationId(), type: 'Account', fields: { Id: '0015e00000AbCdEEAV', Name: 'Acme' } }]));
    expect(account.status).toBe(422);
    expect(((await account.json()) as { error: string }).error).toBe('Notification 1: Account is not synced by Assay (only Test_Kit__c, AI_Option__c and Kit_AI_Option__c)');
    expect(await q(`SELECT count(*)::int AS n FROM salesforce_events`)).toEqual(before);
  });

  it('a junction whose kit never arrives is listed by /assay status salesforce, noticed after a while, and given up after 24 hours', async () => {
    const orphan = linkNote('a2L5e00000OrphEEAV', { Test_Kit__c: 'a0B5e00000GhstEEAV', AI_Option__c: 'a1O5e00000RedLEEAV', Unique_Key__c: 'KIT-GHOST:red_light' });
    await send(orphan);
    await waitFor('the orphan junction to wait', async () => (await eventOf(orphan.id))?.error);
    const status = await slashCommand(assay.url, 'status salesforce');
    const text = JSON.stringify(status.json.blocks);
    expect(text).toContain('Salesforce API not configured: Outbound Messages are applied from their own fields; change events are refused (422).');
    expect(text).toContain(':hourglass: waiting — Outbound Message Kit_AI_Option__c a2L5e00000OrphEEAV — waiting for kit a0B5e00000GhstEEAV (KIT-GHOST): its Outbound Message has not arrived');
    expect(slack.of('chat.postMessage').filter((c) => c.body.channel === OPS)).toEqual([]);

    // Time passes (the reconcile sweep re-queues unapplied events): still waiting → one ops notice.
    const [{ id }] = await q(`SELECT id FROM salesforce_events WHERE event_key = $1`, [`om:${orphan.id}`]);
    await q(`UPDATE salesforce_events SET received_at = now() - interval '11 minutes' WHERE id = $1`, [id]);
    await assay.ctx.queue.now(JOBS.salesforceSync, { eventId: id });
    const [notice] = await slack.waitFor('chat.postMessage');
    expect(notice!.body.channel).toBe(OPS);
    expect(notice!.body.text).toContain('Salesforce Outbound Message for Kit_AI_Option__c a2L5e00000OrphEEAV is still waiting: waiting for kit a0B5e00000GhstEEAV (KIT-GHOST)');
    expect(await eventOf(orphan.id)).toMatchObject({ status: 'received', error: expect.stringMatching(/^still waiting for kit a0B5e00000GhstEEAV/) });

    // After Salesforce's own 24 hours it is failed, noticed, and still listed.
    await q(`UPDATE salesforce_events SET received_at = now() - interval '25 hours' WHERE id = $1`, [id]);
    await assay.ctx.queue.now(JOBS.salesforceSync, { eventId: id });
    await waitFor('the orphan to be given up', async () => (await eventOf(orphan.id))?.status === 'failed');
    await slack.waitFor('chat.postMessage', 2);
    expect(slack.of('chat.postMessage')[1]!.body.text).toContain('could not be applied: waiting for kit a0B5e00000GhstEEAV (KIT-GHOST): its Outbound Message has not arrived; gave up after 24 hours');
    const after = JSON.stringify((await slashCommand(assay.url, 'status salesforce')).json.blocks);
    expect(after).toContain(':x: failed — Outbound Message Kit_AI_Option__c a2L5e00000OrphEEAV');
    expect(await q(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'notice.salesforce_event_unapplied'`)).toEqual([{ n: 2 }]);
  });
});
