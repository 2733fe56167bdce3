// Guide images in the wizard's labels step: an image block only for a URL Assay could fetch itself
// (https, answering with an image); anything else — an HTML page, a 404, plain http, a private
// address — becomes a link, so Slack never rejects the step. Answers are cached.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { guideImageChecker } from '../../src/services/guide-image-service.js';
import { png } from '../jobs/pipeline-helpers.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
let image: Buffer;
const IMAGES = 'https://images.example.com';

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  image = await png({ r: 255, g: 0, b: 0 });
  // Private fetching on: images.example.com is not resolved (nock answers it).
  assay = await startTestAssay({ ...SLACK_ENV, ASSAY_ALLOW_PRIVATE_FETCH: 'true' }, { worker: false });
  s = await seeded(assay.ctx.db.dataSource.manager);
  const set = (name: string, url: string) => assay.ctx.db.dataSource.query(`UPDATE ai_options SET example_image_url = $2 WHERE name = $1`, [name, url]);
  await set('speed_limit', `${IMAGES}/speed.png`);
  await set('no_entry', `${IMAGES}/no-entry.html`);
  await set('yield', `${IMAGES}/missing.png`);
  await set('pedestrian_crossing', 'http://images.example.com/plain.png');
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

async function labelsStep() {
  await slashCommand(assay.url, 'train', 'UREQUESTER');
  const [upd] = await slack.waitFor('views.update');
  const sid = upd!.body.view.private_metadata;
  const submit = (callbackId: string, values: Record<string, Record<string, unknown>>) => interaction(assay.url, viewSubmission({ callbackId, privateMetadata: sid, values }));
  await submit('wizard_kits', { kits: { kits: { type: 'multi_static_select', selected_options: [{ value: s.kit('2001').id }] } } });
  const picked = ['speed_limit', 'no_entry', 'yield', 'pedestrian_crossing'].map((o) => ({ value: s.option(o).uid }));
  const r = await submit('wizard_options', { options: { options: { type: 'checkboxes', selected_options: picked } } });
  expect(r.json.response_action).toBe('update');
  expect(r.json.view.callback_id).toBe('wizard_labels');
  return r.json.view.blocks as any[];
}

describe('guide images', () => {
  it('only a fetched https image becomes an image block; the rest are links; the answers are cached', async () => {
    const host = nock(IMAGES)
      .get('/speed.png').once().reply(200, image, { 'content-type': 'image/png' })
      .get('/no-entry.html').once().reply(200, '<html>a page about signs</html>', { 'content-type': 'text/html' })
      .get('/missing.png').once().reply(404, 'not here');
    const blocks = await labelsStep();
    const images = blocks.filter((b) => b.type === 'image');
    expect(images.map((b) => b.image_url)).toEqual([`${IMAGES}/speed.png`]);
    const links = blocks.filter((b) => b.type === 'context').map((b) => b.elements[0].text).join('\n');
    expect(links).toContain(`Guide image for No entry sign: <${IMAGES}/no-entry.html|open it>`);
    expect(links).toContain(`<${IMAGES}/missing.png|open it>`);
    expect(links).toContain('<http://images.example.com/plain.png|open it>');
    expect(host.isDone()).toBe(true);

    // Asked again: answered from the cache (the URLs would not answer a second time).
    const again = await labelsStep();
    expect(again.filter((b) => b.type === 'image').map((b) => b.image_url)).toEqual([`${IMAGES}/speed.png`]);
  });

  it('is SSRF-safe and quick: private addresses are refused without a request, a slow host times out', async () => {
    const check = guideImageChecker({ allowPrivate: false, timeoutMs: 300, lookup: async () => [{ address: '10.0.0.7', family: 4 }] });
    expect(await check('https://intranet.example.com/guide.png')).toBe(false);
    expect(await check('https://169.254.169.254/latest/meta-data')).toBe(false);
    nock('https://slow.example.com').get('/guide.png').delay(2000).reply(200, image, { 'content-type': 'image/png' });
    const quick = guideImageChecker({ allowPrivate: true, timeoutMs: 300 });
    const started = Date.now();
    expect(await quick('https://slow.example.com/guide.png')).toBe(false);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
