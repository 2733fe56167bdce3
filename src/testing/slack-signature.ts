// Slack's request signing (v0), as Slack signs what it sends an app: HMAC-SHA256 with the app's
// signing secret over `v0:{timestamp}:{raw body}`. Bolt checks it on Assay's side.
import { createHmac } from 'node:crypto';

export function slackSignature(secret: string, timestamp: string | number, body: Buffer | string): string {
  return 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex');
}
