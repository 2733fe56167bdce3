// Signed webhooks (Salesforce change events, remote trainer callbacks): HMAC-SHA256 over
// `timestamp + "." + raw body`, compared in constant time, 5-minute window.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_WINDOW_SECONDS = 300;

export function signBody(secret: string, timestamp: string, body: Buffer | string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function verifySignature(secret: string, timestamp: string | undefined, signature: string | undefined, body: Buffer, now = Date.now()): SignatureCheck {
  if (!timestamp || !signature) return { ok: false, reason: 'missing X-Assay-Timestamp or X-Assay-Signature' };
  if (!/^\d{1,13}$/.test(timestamp)) return { ok: false, reason: 'X-Assay-Timestamp must be Unix seconds' };
  if (Math.abs(now / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) return { ok: false, reason: 'stale timestamp (more than 5 minutes off)' };
  const expected = Buffer.from(signBody(secret, timestamp, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}

/** Constant-time comparison of two secrets of possibly different lengths. */
export function sameSecret(a: string, b: string): boolean {
  const x = createHmac('sha256', 'cmp').update(a).digest();
  const y = createHmac('sha256', 'cmp').update(b).digest();
  return timingSafeEqual(x, y);
}
