// The tests' secrets, and the shared Salesforce message builders (src/testing/) with them as defaults.
import { postChangeEvents as post, postOutbound as postXml } from '../../src/testing/salesforce-messages.js';

export { cdcEvent, notificationId, outboundMessage, type NotificationSpec } from '../../src/testing/salesforce-messages.js';

export const WEBHOOK_SECRET = 'whsec-test-0123456789abcdef';
export const OUTBOUND_TOKEN = 'om-token-0123456789abcdef';

export async function postChangeEvents(baseUrl: string, body: unknown, opts: { secret?: string; timestamp?: number; raw?: string } = {}) {
  return post(baseUrl, body, { ...opts, secret: opts.secret ?? WEBHOOK_SECRET });
}

export async function postOutbound(baseUrl: string, xml: string, token = OUTBOUND_TOKEN) {
  return postXml(baseUrl, xml, token);
}
