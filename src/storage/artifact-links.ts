// Time-limited links to stored artifacts for outside readers (the remote trainer): S3
// pre-signed URLs, or for the local store an Assay URL signed with the server secret.
import crypto from 'node:crypto';
import type { AppContext } from '../app/context.js';

function linkSignature(secret: string, artifactPath: string, expires: number): string {
  return crypto.createHmac('sha256', `artifact-link:${secret}`).update(`${artifactPath}\n${expires}`).digest('hex');
}

export async function signedArtifactUrl(ctx: Pick<AppContext, 'artifacts' | 'config' | 'secret'>, artifactPath: string, ttlSeconds: number): Promise<string> {
  if (ctx.artifacts.presignedUrl) return ctx.artifacts.presignedUrl(artifactPath, ttlSeconds);
  const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
  return `${ctx.config.publicUrl}/artifacts/${artifactPath}?expires=${expires}&sig=${linkSignature(ctx.secret, artifactPath, expires)}`;
}

/** Constant-time check of a local artifact link. */
export function verifyArtifactLink(secret: string, artifactPath: string, expires: unknown, sig: unknown, now = Date.now()): boolean {
  const exp = Number(expires);
  if (!Number.isInteger(exp) || exp < now / 1000 || typeof sig !== 'string') return false;
  const expected = Buffer.from(linkSignature(secret, artifactPath, exp));
  const given = Buffer.from(sig);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
