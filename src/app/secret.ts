// The server secret signs download URLs and derives other keys. ASSAY_SECRET wins; without
// it one is made once per data folder (so the embedded default needs no setup), owner-only.
// Creation is atomic: the secret is written whole to a temp file, then hard-linked into place
// (link() fails if the name exists), so processes starting together on a fresh folder all end
// up with the same, complete secret — never a half-written or empty one.
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/errors.js';

export const MIN_SECRET_LENGTH = 32;

/** The stored secret, or null when there is none yet. A short one is refused: it could be guessed. */
function readSecret(file: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const secret = text.trim();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`${file} holds a ${secret.length}-character secret, at least ${MIN_SECRET_LENGTH} are needed: delete the file (a new one is made) or set ASSAY_SECRET`);
  }
  // Written by an older version or copied in by hand: tighten to owner-only.
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  return secret;
}

export function loadOrCreateSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'secret');
  const existing = readSecret(file);
  if (existing !== null) return existing;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('hex');
  const tmp = path.join(dataDir, `.secret-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, secret);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
    return secret;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return readSecret(file)!; // another process linked its (complete) secret first
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** A purpose-specific key, so one leaked derived key cannot sign something else. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`assay:${purpose}`).digest();
}
