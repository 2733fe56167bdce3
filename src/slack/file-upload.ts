// A file into a Slack thread the way Slack asks for it now (files.upload is retired):
// files.getUploadURLExternal → POST the bytes to the returned upload URL →
// files.completeUploadExternal with channel_id and thread_ts. The upload URL is pre-signed, so
// the bytes go there without the bot token (WebClient.filesUploadV2 would send it along), and
// only to Slack's file host or the configured local stand-in of Slack's API.
import type { WebClient } from '@slack/web-api';
import { isSlackFileUrl } from '../services/dataset-service.js';

export interface ThreadFile {
  channel: string;
  threadTs: string;
  bytes: Buffer;
  filename: string;
  title: string;
  /** Message text introducing the file (mrkdwn: escape outside text before). */
  comment?: string;
  /** For screen readers. */
  altText?: string;
}

export class SlackUploadError extends Error {
  override name = 'SlackUploadError';
}

const UPLOAD_TIMEOUT_MS = 30_000;

/** Uploads `file` as a reply in its thread; returns Slack's file id. */
export async function uploadToThread(client: WebClient, file: ThreadFile, opts: { slackApiUrl?: string } = {}): Promise<string> {
  // The method reference spells the argument alt_txt, @slack/web-api sends alt_text: both, same text.
  const alt = file.altText ? { alt_txt: file.altText, alt_text: file.altText } : {};
  const target = await client.files.getUploadURLExternal({ filename: file.filename, length: file.bytes.length, ...alt });
  const uploadUrl = target.upload_url;
  const fileId = target.file_id;
  if (!uploadUrl || !fileId) throw new SlackUploadError('files.getUploadURLExternal answered without an upload URL or file id');
  if (!isSlackFileUrl(uploadUrl, opts.slackApiUrl)) throw new SlackUploadError(`the upload URL Slack gave is not on Slack's file host (${new URL(uploadUrl).host}); nothing was sent`);

  const r = await fetch(uploadUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength),
    redirect: 'error',
    signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
  });
  await r.arrayBuffer().catch(() => undefined); // drain, so the socket is reused
  if (r.status !== 200) throw new SlackUploadError(`Slack's file host answered HTTP ${r.status} to the upload of ${file.filename}`);

  await client.files.completeUploadExternal({
    files: [{ id: fileId, title: file.title }],
    channel_id: file.channel,
    thread_ts: file.threadTs,
    ...(file.comment ? { initial_comment: file.comment } : {}),
  });
  return fileId;
}
