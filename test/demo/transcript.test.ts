// The demo's Slack stand-in and its transcript: the real WebClient talks to the recorder over
// HTTP; the transcript draws Block Kit payloads and escapes whatever came from them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebClient } from '@slack/web-api';
import { SlackRecorder } from '../../src/demo/slack-recorder.js';
import { mrkdwn, renderBlocks, renderTranscript } from '../../src/demo/transcript.js';
import { uploadToThread } from '../../src/slack/file-upload.js';

const TOKEN = 'xoxb-demo-token-0000';
let recorder: SlackRecorder;
let client: WebClient;

beforeAll(async () => {
  recorder = new SlackRecorder({ botToken: TOKEN, userGroups: { S0APPROVERS: ['U0ALICE'] } });
  await recorder.start();
  client = new WebClient(TOKEN, { slackApiUrl: recorder.apiUrl, retryConfig: { retries: 0 } });
});
afterAll(async () => recorder.stop());

describe('SlackRecorder', () => {
  it('records Web API calls with their blocks and answers like Slack', async () => {
    recorder.userAction('Bob', 'types /assay train');
    const posted = await client.chat.postMessage({ channel: 'C0OPS', text: 'hi', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }] });
    expect(posted.ok).toBe(true);
    expect(posted.ts).toMatch(/^\d+\.\d{6}$/);
    const updated = await client.chat.update({ channel: 'C0OPS', ts: posted.ts!, text: 'bye' });
    expect(updated.ts).toBe(posted.ts);

    const opened = await client.views.open({ trigger_id: 'T1', view: { type: 'modal', callback_id: 'wizard', title: { type: 'plain_text', text: 'Train' }, blocks: [] } });
    expect(opened.view?.id).toMatch(/^V/);
    const again = await client.views.update({ view_id: opened.view!.id!, hash: opened.view!.hash!, view: { type: 'modal', title: { type: 'plain_text', text: 'Step 2' }, blocks: [] } });
    expect(again.view?.id).toBe(opened.view!.id);
    // A stale hash is refused, as Slack does.
    const stale = await client.views.update({ view_id: opened.view!.id!, hash: opened.view!.hash!, view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } }).catch((e: { data: { error: string } }) => e.data);
    expect(stale).toMatchObject({ error: 'hash_conflict' });

    expect((await client.usergroups.users.list({ usergroup: 'S0APPROVERS' })).users).toEqual(['U0ALICE']);
    expect((await client.auth.test()).user_id).toBe(recorder.botUserId);

    const methods = recorder.calls.map((c) => c.method);
    expect(methods).toEqual(['chat.postMessage', 'chat.update', 'views.open', 'views.update', 'views.update', 'usergroups.users.list', 'auth.test']);
    expect(recorder.calls[0]!.args.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }]);
    expect(recorder.entries[0]).toMatchObject({ kind: 'action', actor: 'Bob' });
  });

  it('refuses a wrong token and serves uploaded files only with the right one', async () => {
    const bad = new WebClient('xoxb-wrong', { slackApiUrl: recorder.apiUrl, retryConfig: { retries: 0 } });
    await expect(bad.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });

    const file = recorder.addFile('kit.json', Buffer.from('{"images":[]}'));
    const info = await client.files.info({ file: file.id });
    expect((info.file as { url_private_download: string }).url_private_download).toBe(file.url_private_download);
    const ok = await fetch(file.url_private_download, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await ok.text()).toBe('{"images":[]}');
    const anonymous = await fetch(file.url_private_download);
    expect(anonymous.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('takes a picture through Slack\'s external upload flow, and the transcript shows it in the thread', async () => {
    const png = Buffer.concat([Buffer.from([0x89]), Buffer.from('PNG\r\n\x1a\n'), Buffer.alloc(40, 7)]);
    const since = recorder.lastSeq;
    const id = await uploadToThread(client, { channel: 'C0OPS', threadTs: '1700000000.000001', bytes: png, filename: 'preview.png', title: 'lights v1: test photos', comment: '*lights* on test photos' }, { slackApiUrl: recorder.apiUrl });
    expect(recorder.fileContent(id)?.equals(png)).toBe(true);
    const calls = recorder.calls.filter((c) => c.seq > since);
    expect(calls.map((c) => c.method)).toEqual(['files.getUploadURLExternal', 'files.completeUploadExternal']);
    expect(calls[1]!.args).toMatchObject({ channel_id: 'C0OPS', thread_ts: '1700000000.000001' });
    const assets = recorder.imageAssets();
    const html = renderTranscript(calls, { assets });
    expect(html).toContain(`src="data:image/png;base64,${png.toString('base64')}"`);
    expect(html).toContain('<b>lights</b> on test photos');
    expect(html).toContain('(in thread)');
    // Bytes that never arrived: Slack refuses to complete the upload.
    const target = await client.files.getUploadURLExternal({ filename: 'x.png', length: 10 });
    await expect(client.files.completeUploadExternal({ files: [{ id: target.file_id! }], channel_id: 'C0OPS' })).rejects.toMatchObject({ data: { error: 'file_upload_size_mismatch' } });
  });

  it('records posts to a response_url and waits for future calls', async () => {
    const url = recorder.responseUrl();
    const waiting = recorder.waitFor((c) => c.method === 'response_url' && c.args.text === 'done', 2000);
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'done', response_type: 'ephemeral' }) });
    expect((await waiting).args).toMatchObject({ text: 'done' });
    await expect(recorder.waitFor(() => false, 50)).rejects.toThrow(/no matching Slack call/);
  });
});

describe('transcript', () => {
  it('renders mrkdwn and escapes everything else', () => {
    expect(mrkdwn('*Model* _v2_ `a<b` <https://x.test/a?b=1&amp;c=2|see it> <@U0ALICE>')).toBe(
      '<b>Model</b> <i>v2</i> <code>a&lt;b</code> <a href="https://x.test/a?b=1&amp;c=2" rel="noopener noreferrer">see it</a> <span class="mention">@U0ALICE</span>',
    );
    expect(mrkdwn('<script>alert(1)</script>')).not.toContain('<script>');
    expect(mrkdwn('<javascript:alert(1)|click>')).not.toContain('href');
    expect(mrkdwn('a &lt;b&gt; &amp; "c"')).toBe('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(mrkdwn('Approved <!date^1795441672^{date_short_pretty}|2026-11-23 13:47 UTC>')).toBe('Approved 2026-11-23 13:47 UTC');
  });

  it('shows people and channels by name when told them, and leaves auth.test out', () => {
    const at = Date.UTC(2026, 0, 1, 12, 0, 0);
    const html = renderTranscript(
      [
        { kind: 'call', seq: 1, at, method: 'auth.test', args: {}, response: { ok: true } },
        { kind: 'call', seq: 2, at, method: 'chat.postEphemeral', args: { channel: 'C0OPS', user: 'U0CARL', text: 'Ask <@U0ANA> in <#C0OPS>' }, response: { ok: true } },
      ],
      { names: { U0ANA: 'Ana', U0CARL: 'Carl', C0OPS: 'kit-models' } },
    );
    expect(html).toContain('only visible to Carl in #kit-models');
    expect(html).toContain('Ask <span class="mention">@Ana</span> in <span class="mention">#kit-models</span>');
    expect(html).not.toContain('auth.test');
    // Names do not leak into the next render.
    expect(renderTranscript([{ kind: 'call', seq: 1, at, method: 'chat.postMessage', args: { channel: 'C0OPS', text: '<@U0ANA>' }, response: { ok: true, channel: 'C0OPS' } }])).toContain('@U0ANA');
  });

  it('draws the blocks of a message and a modal the way Slack lays them out', () => {
    const html = renderBlocks([
      { type: 'header', text: { type: 'plain_text', text: 'Model kits_v3 <ready>' } },
      { type: 'section', text: { type: 'mrkdwn', text: 'Accuracy *0.97*' }, fields: [{ type: 'mrkdwn', text: '*F1*\n0.96' }], accessory: { type: 'image', image_url: 'https://x.test/i.png', alt_text: 'guide' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'requested by <@U0BOB>' }] },
      { type: 'divider' },
      { type: 'actions', block_id: 'decide', elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', action_id: 'model_approve', value: 'm1' },
        { type: 'button', text: { type: 'plain_text', text: 'Reject' }, style: 'danger', action_id: 'model_reject' },
      ] },
      { type: 'input', block_id: 'kits', label: { type: 'plain_text', text: 'Kits' }, dispatch_action: true, element: { type: 'multi_external_select', action_id: 'pick', placeholder: { type: 'plain_text', text: 'Search kits' }, min_query_length: 0 } },
      { type: 'input', block_id: 'options', label: { type: 'plain_text', text: 'Options' }, element: { type: 'checkboxes', action_id: 'o', options: [{ text: { type: 'plain_text', text: 'red_light' }, value: 'a' }, { text: { type: 'plain_text', text: 'green_light' }, value: 'b' }], initial_options: [{ text: { type: 'plain_text', text: 'red_light' }, value: 'a' }] } },
      { type: 'input', block_id: 'mode', label: { type: 'plain_text', text: 'Version' }, element: { type: 'radio_buttons', options: [{ text: { type: 'plain_text', text: 'New version' }, value: 'new' }] } },
      { type: 'input', block_id: 'base', label: { type: 'plain_text', text: 'Base' }, optional: true, element: { type: 'static_select', placeholder: { type: 'plain_text', text: 'Pick' }, options: [{ text: { type: 'plain_text', text: 'v1 & <b>' }, value: 'v1' }] } },
      { type: 'input', block_id: 'label', label: { type: 'plain_text', text: 'Label for yellow_light' }, hint: { type: 'plain_text', text: 'as in the COCO file' }, element: { type: 'plain_text_input', action_id: 'l', placeholder: { type: 'plain_text', text: 'e.g. amber' } } },
      { type: 'input', block_id: 'file', label: { type: 'plain_text', text: 'Dataset' }, element: { type: 'file_input', action_id: 'f', filetypes: ['json'], max_files: 1 } },
      { type: 'mystery' },
    ]);
    expect(html).toContain('<div class="block header">Model kits_v3 &lt;ready&gt;');
    expect(html).toContain('Accuracy <b>0.97</b>');
    expect(html).toContain('<div class="fields"><div><b>F1</b><br>0.96</div></div>');
    expect(html).toContain('<img class="thumb" src="https://x.test/i.png" alt="guide">');
    expect(html).toContain('<span class="mention">@U0BOB</span>');
    expect(html).toContain('<hr class="block divider">');
    expect(html).toMatch(/<span class="button primary" title="action_id=model_approve value=m1">Approve<\/span>/);
    expect(html).toMatch(/<span class="button danger"[^>]*>Reject<\/span>/);
    expect(html).toContain('multi_external_select: Search kits');
    expect(html).toContain('(sends actions)');
    expect(html).toContain('☑ red_light');
    expect(html).toContain('☐ green_light');
    expect(html).toContain('○ New version');
    expect(html).toContain('v1 &amp; &lt;b&gt;');
    expect(html).toContain('(optional)');
    expect(html).toContain('e.g. amber');
    expect(html).toContain('as in the COCO file');
    expect(html).toContain('file types: json; max files: 1');
    expect(html).toContain('[mystery block]');
    expect(html).not.toContain('<b>)');
  });

  it('is one self-contained page with user actions, modals, collapsed progress edits and escaped payloads', () => {
    const at = Date.UTC(2026, 0, 1, 12, 0, 0);
    const call = (seq: number, method: string, args: Record<string, unknown>) => ({ kind: 'call' as const, seq, at, method, args, response: { ok: true, channel: 'C0OPS' } });
    const html = renderTranscript(
      [
        { kind: 'action', seq: 1, at, actor: 'Bob <bob@x>', description: 'types /assay train', details: { command: '/assay', text: 'train' } },
        call(2, 'views.open', { trigger_id: 't', view: { type: 'modal', callback_id: 'train_wizard', title: { type: 'plain_text', text: 'Train a model' }, submit: { type: 'plain_text', text: 'Next' }, close: { type: 'plain_text', text: 'Cancel' }, blocks: [] } }),
        call(3, 'chat.postMessage', { channel: 'C0OPS', text: 'Training <queued> & "started"' }),
        call(4, 'chat.update', { channel: 'C0OPS', ts: '1.1', text: 'epoch 1/3' }),
        call(5, 'chat.update', { channel: 'C0OPS', ts: '1.1', text: 'epoch 2/3' }),
        call(6, 'chat.update', { channel: 'C0OPS', ts: '1.1', text: 'epoch 3/3' }),
        call(7, 'usergroups.users.list', { usergroup: 'S0X' }),
      ],
      { title: 'Demo <run>', steps: [{ ok: true, text: 'kit synced' }, { ok: false, text: 'edge <failed>' }] },
    );
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link |src="http/);
    expect(html).toContain('<title>Demo &lt;run&gt;</title>');
    expect(html).toContain('✗ edge &lt;failed&gt;');
    expect(html).toContain('<b>Bob &lt;bob@x&gt;</b> types /assay train');
    expect(html).toContain('<div class="modal-title">Train a model</div>');
    expect(html).toContain('callback_id=train_wizard');
    expect(html).toContain('<span class="button primary">Next</span>');
    expect(html).toContain('Training &lt;queued&gt; &amp; &quot;started&quot;');
    expect(html).toContain('3 consecutive edits, showing the last');
    expect(html).toContain('epoch 3/3');
    expect(html).not.toContain('epoch 2/3');
    expect(html).toContain('usergroups.users.list');
  });

  it('shows wizard steps and field errors that came back in the interaction ack, with images inlined', () => {
    const at = Date.UTC(2026, 0, 1, 12, 0, 0);
    const ack = (seq: number, args: Record<string, unknown>) => ({ kind: 'call' as const, seq, at, method: 'ack', args, response: { ok: true } });
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    const html = renderTranscript(
      [
        ack(1, { response_action: 'update', view: { type: 'modal', title: { type: 'plain_text', text: 'Label names' }, blocks: [{ type: 'image', image_url: 'http://127.0.0.1:9/guide.png', alt_text: 'yellow' }] } }),
        ack(2, { response_action: 'errors', errors: { dataset_url: 'Enter a URL starting with https://' } }),
        ack(3, {}),
      ],
      { assets: new Map([['http://127.0.0.1:9/guide.png', png], ['http://127.0.0.1:9/x.png', 'javascript:alert(1)']]) },
    );
    expect(html).toContain('ack (response_action: update)');
    expect(html).toContain('<div class="modal-title">Label names</div>');
    expect(html).toContain(`src="${png}"`);
    expect(html).not.toContain('127.0.0.1:9/guide.png');
    expect(html).toContain('block_id=dataset_url</span> Enter a URL starting with https://');
  });
});
