// Request bodies for the webhooks, the Slack endpoint and the edge heartbeat: the content type is
// checked first (415), the size is capped while reading (413 as soon as the cap is passed, or at
// once from Content-Length — the rest is never read and the connection is closed), compressed
// bodies are refused (we do not inflate untrusted input). The raw bytes land in req.body (and
// req.rawBody, which Bolt reads). JSON nesting is bounded before anything parses it.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from './errors.js';

export interface BodyRule {
  /** Largest accepted body, in bytes. */
  limitBytes: number;
  /** Accepted media types (without parameters), e.g. ["application/json"]. */
  types: readonly string[];
}

/** Deepest JSON nesting any Assay endpoint accepts: real payloads stay under 10 levels. */
export const MAX_JSON_DEPTH = 64;

function tooLarge(res: Response, limit: number): HttpError {
  // The unread rest of the body is dropped with the connection instead of being read.
  res.setHeader('connection', 'close');
  return new HttpError(413, `request body too large (limit ${limit} bytes)`);
}

export function readBody(rule: BodyRule): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!rule.types.includes(type)) {
      res.setHeader('connection', 'close');
      return next(new HttpError(415, `content type ${type ? `"${type.slice(0, 100)}"` : 'missing'}: send ${rule.types.join(' or ')}`));
    }
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      res.setHeader('connection', 'close');
      return next(new HttpError(415, `content encoding "${encoding.slice(0, 50)}" is not accepted: send the body uncompressed`));
    }
    const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : null;
    if (declared !== null && declared > rule.limitBytes) return next(tooLarge(res, rule.limitBytes));
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (err) return next(err);
      const body = Buffer.concat(chunks, size);
      (req as Request & { rawBody?: Buffer }).rawBody = body;
      req.body = body;
      next();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > rule.limitBytes) {
        req.pause();
        return finish(tooLarge(res, rule.limitBytes));
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = (e: Error) => finish(new HttpError(400, `request body could not be read (${e.message})`));
    const onAborted = () => finish(new HttpError(400, 'request aborted'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  };
}

/** Depth of the deepest [ or { in a JSON text (strings skipped). Stops counting once past `max`. */
export function jsonDepth(text: Buffer | string, max = MAX_JSON_DEPTH): number {
  const s = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > max) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** JSON.parse for request bodies: malformed or too deeply nested → 400 with the reason. */
export function parseJsonBody(body: Buffer, what = 'the body'): unknown {
  if (jsonDepth(body) > MAX_JSON_DEPTH) throw new HttpError(400, `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, `${what} is not valid JSON`);
  }
}
