// JWT bearer flow (RFC 7523) for a server without a browser: sign an RS256 assertion with the
// connected app's private key and trade it for an access token. No refresh token exists in this
// flow, so "refresh" means minting again.
import { createSign } from 'node:crypto';
import fs from 'node:fs';

export interface JwtAuth {
  clientId: string;
  username: string;
  privateKeyPath: string;
  loginUrl: string;
}

export interface TokenResponse {
  access_token: string;
  instance_url: string;
  id?: string;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

export function jwtAssertion(auth: JwtAuth, privateKey: string, now = Date.now()): string {
  const host = new URL(auth.loginUrl).hostname;
  // The audience is the login host, or test.salesforce.com for sandboxes; my-domain URLs use login.
  const aud = /(^|\.)test\.salesforce\.com$/.test(host) ? 'https://test.salesforce.com' : /salesforce\.com$/.test(host) ? 'https://login.salesforce.com' : auth.loginUrl;
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = b64url(JSON.stringify({ iss: auth.clientId, sub: auth.username, aud, exp: Math.floor(now / 1000) + 180 }));
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(privateKey);
  return `${header}.${claims}.${b64url(signature)}`;
}

export class SalesforceAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SalesforceAuthError';
  }
}

export async function mintJwtToken(auth: JwtAuth): Promise<TokenResponse> {
  const key = fs.readFileSync(auth.privateKeyPath, 'utf8');
  const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(auth, key) });
  const res = await fetch(`${auth.loginUrl.replace(/\/$/, '')}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
  });
  const json = (await res.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string };
  if (!res.ok || !json.access_token || !json.instance_url) {
    // The token endpoint explains itself (invalid_grant: user hasn't approved this consumer...); never echo the assertion.
    throw new SalesforceAuthError(`Salesforce JWT login failed (${res.status}): ${json.error ?? 'no token'}${json.error_description ? ` - ${json.error_description}` : ''}`);
  }
  return { access_token: json.access_token, instance_url: json.instance_url, id: json.id };
}
