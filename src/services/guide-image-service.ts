// Guide images in the wizard: Slack rejects a whole view when it cannot fetch an image block's
// URL, so a guide image goes into a view only after Assay fetched it itself — https, an answer
// with an image content type, through the SSRF-safe fetcher, within a short time. Answers are
// cached (a good URL for an hour, a bad one for ten minutes) so steps stay well inside Slack's 3 s.
import { safeFetchStream, type LookupAll } from '../datasets/safe-fetch.js';

export interface GuideImageOptions {
  /** Test/dev only (ASSAY_ALLOW_PRIVATE_FETCH): private addresses may be fetched. */
  allowPrivate: boolean;
  timeoutMs?: number;
  lookup?: LookupAll;
  now?: () => number;
}

export type GuideImageChecker = (url: string) => Promise<boolean>;

const OK_TTL_MS = 60 * 60_000;
const BAD_TTL_MS = 10 * 60_000;
const MAX_ENTRIES = 1000;

/** True when Slack can show `url` as an image block (https, reachable, an image). */
export function guideImageChecker(opts: GuideImageOptions): GuideImageChecker {
  const cache = new Map<string, { ok: boolean; until: number }>();
  const now = opts.now ?? Date.now;
  return async (url) => {
    const hit = cache.get(url);
    if (hit && hit.until > now()) return hit.ok;
    let ok = false;
    // Slack fetches image blocks over https; anything else is shown as a link.
    if (/^https:\/\//i.test(url)) {
      try {
        const r = await safeFetchStream(url, { allowHttp: false, allowPrivate: opts.allowPrivate, timeoutMs: opts.timeoutMs ?? 1500, maxBytes: 5 * 1024 * 1024, accept: ['image/'], lookup: opts.lookup, maxRedirects: 3 });
        r.stream.destroy(); // the headers are the answer; the body is not needed
        ok = true;
      } catch {
        ok = false;
      }
    }
    cache.delete(url);
    cache.set(url, { ok, until: now() + (ok ? OK_TTL_MS : BAD_TTL_MS) });
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    return ok;
  };
}

/** Each option with whether its guide image can be shown as an image (checked in parallel). */
export async function checkGuideImages<T extends { exampleImageUrl: string | null }>(options: readonly T[], check: GuideImageChecker): Promise<(T & { guideImageOk: boolean })[]> {
  return Promise.all(options.map(async (o) => ({ ...o, guideImageOk: o.exampleImageUrl ? await check(o.exampleImageUrl) : false })));
}
