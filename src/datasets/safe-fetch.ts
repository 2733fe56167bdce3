// SSRF-safe HTTP(S) fetching for dataset, image and trainer-artifact URLs. Every hop (the first
// URL and each redirect) is checked: scheme (https only unless allowHttp), host resolved and
// EVERY address checked with ipaddr.js (public unicast only unless allowPrivate), then the
// socket is pinned to the checked address so a second DNS answer cannot swap it (rebinding).
// Size, total time and content type are capped.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { pipeline, Readable, Transform } from 'node:stream';
import ipaddr from 'ipaddr.js';

export type LookupAll = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface SafeFetchOptions {
  allowHttp?: boolean;
  allowPrivate?: boolean;
  maxBytes: number;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Accepted content types (prefix match, e.g. "image/"); any when omitted. */
  accept?: string[];
  maxRedirects?: number;
  /** DNS resolver (tests inject one to simulate answers). Default: dns.lookup with all addresses. */
  lookup?: LookupAll;
}

export type FetchErrorCode = 'blocked_url' | 'blocked_address' | 'too_large' | 'timeout' | 'http_status' | 'content_type' | 'too_many_redirects' | 'network';

export class FetchError extends Error {
  constructor(
    readonly code: FetchErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FetchError';
  }
  /** Worth retrying later (the source may recover); the rest are final answers. */
  get transient(): boolean {
    return this.code === 'timeout' || this.code === 'network' || (this.code === 'http_status' && (this.status! >= 500 || this.status === 429));
  }
}

export interface FetchedStream {
  stream: Readable;
  contentType: string;
  contentLength: number | null;
  finalUrl: string;
}

const defaultLookup: LookupAll = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR = ipaddr.parseCIDR('2002::/16');

/** The IPv4 address in the low 32 bits (NAT64) or in bits 16-47 (6to4). */
function embeddedIPv4(ip: ipaddr.IPv6, at: 'low' | '6to4'): ipaddr.IPv4 {
  const b = ip.toByteArray();
  return new ipaddr.IPv4(at === 'low' ? b.slice(12, 16) : b.slice(2, 6));
}

/**
 * True for addresses a server-side fetch may reach: global unicast only. IPv4: not loopback,
 * private, link-local/metadata, CGNAT, multicast, reserved... IPv6: inside 2000::/3 and no
 * special range, so IPv4-compatible (::/96) and other odd forms are out. Forms that embed an
 * IPv4 address are judged by it: IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96, which DNS64
 * networks hand out for public hosts) and 6to4 (2002::/16) pass only with a public IPv4 inside.
 * Teredo (2001::/32) and local-use NAT64 (64:ff9b:1::/48) are refused outright.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv4') return ip.range() === 'unicast';
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return isPublicAddress(v6.toIPv4Address().toString());
  if (v6.match(NAT64_WELL_KNOWN)) return isPublicAddress(embeddedIPv4(v6, 'low').toString());
  if (v6.match(SIX_TO_FOUR)) return isPublicAddress(embeddedIPv4(v6, '6to4').toString());
  return v6.match(GLOBAL_UNICAST_V6) && v6.range() === 'unicast';
}

function redactUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

async function checkedAddress(url: URL, opts: SafeFetchOptions): Promise<{ address: string; family: number } | null> {
  if (url.protocol !== 'https:' && !(opts.allowHttp && url.protocol === 'http:')) {
    throw new FetchError('blocked_url', `only https:// URLs may be fetched (got ${url.protocol}//${url.host})`);
  }
  if (url.username || url.password) throw new FetchError('blocked_url', 'URLs with credentials are not fetched');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // Test mode with private addresses allowed: nothing to check, the socket resolves normally.
  if (opts.allowPrivate) return null;
  const addresses = net.isIP(host) ? [{ address: host, family: net.isIP(host) }] : await (opts.lookup ?? defaultLookup)(host).catch((e: Error) => {
    throw new FetchError('network', `cannot resolve ${host}: ${e.message}`);
  });
  if (addresses.length === 0) throw new FetchError('network', `cannot resolve ${host}`);
  // The message never says what the name resolved to: that would map the private network.
  if (addresses.some((a) => !isPublicAddress(a.address))) {
    throw new FetchError('blocked_address', net.isIP(host) ? `${host} is not a public address; refused` : `${host} does not resolve to public addresses only; refused`);
  }
  return addresses[0]!;
}

function request(url: URL, pinned: { address: string; family: number } | null, opts: SafeFetchOptions, signal: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers: { 'user-agent': 'assay/1', ...opts.headers },
        signal,
        // Connect to exactly the address that was checked (no second resolution).
        lookup: pinned
          ? (((_h: string, o: { all?: boolean }, cb: (...args: unknown[]) => void) => (o?.all ? cb(null, [pinned]) : cb(null, pinned.address, pinned.family))) as never)
          : undefined,
        servername: net.isIP(url.hostname) ? undefined : url.hostname,
      } as https.RequestOptions,
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Opens a URL and returns its body as a capped stream. One deadline (timeoutMs) covers the whole
 * exchange — connect, headers, every redirect and the body — and when it passes, the socket is
 * destroyed. Every refused response (redirect, error status, content type, size) is destroyed,
 * never drained: a server that answers 404 and then trickles bytes must not hold a socket.
 * The caller must consume or destroy the returned stream.
 */
export async function safeFetchStream(rawUrl: string, opts: SafeFetchOptions): Promise<FetchedStream> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new FetchError('blocked_url', 'not a valid URL');
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const fail = (e: unknown): never => {
    clearTimeout(timer);
    controller.abort(); // whatever is still open (a request, a socket) goes now
    if (e instanceof FetchError) throw e;
    if (timedOut) throw new FetchError('timeout', `${redactUrl(url)} did not answer within ${opts.timeoutMs} ms`);
    throw new FetchError('network', `${redactUrl(url)}: ${(e as Error).message}`);
  };
  const origin = url.origin;
  let headers = opts.headers;
  for (let hop = 0; ; hop++) {
    let res: http.IncomingMessage;
    try {
      const pinned = await checkedAddress(url, opts);
      if (timedOut) throw new FetchError('timeout', `${redactUrl(url)} did not answer within ${opts.timeoutMs} ms`);
      res = await request(url, pinned, { ...opts, headers }, controller.signal);
    } catch (e) {
      return fail(e);
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.destroy();
      if (hop >= (opts.maxRedirects ?? 3)) return fail(new FetchError('too_many_redirects', 'too many redirects'));
      try {
        url = new URL(res.headers.location, url);
      } catch {
        return fail(new FetchError('blocked_url', `${redactUrl(url)} redirects to an invalid URL`));
      }
      // Credentials never follow a redirect to another origin.
      if (url.origin !== origin) headers = Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => k.toLowerCase() !== 'authorization'));
      continue;
    }
    if (status !== 200) {
      res.destroy();
      return fail(new FetchError('http_status', `${redactUrl(url)} answered HTTP ${status}`, status));
    }
    const contentType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (opts.accept && !opts.accept.some((a) => contentType.startsWith(a))) {
      res.destroy();
      return fail(new FetchError('content_type', `${redactUrl(url)} has content type "${contentType || 'none'}", expected ${opts.accept.join(' or ')}`));
    }
    const contentLength = res.headers['content-length'] ? Number(res.headers['content-length']) : null;
    if (contentLength !== null && contentLength > opts.maxBytes) {
      res.destroy();
      return fail(new FetchError('too_large', `${redactUrl(url)} is ${contentLength} bytes, more than the ${opts.maxBytes} byte limit`));
    }
    let seen = 0;
    const finalUrl = url;
    const cap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        seen += chunk.length;
        if (seen > opts.maxBytes) return cb(new FetchError('too_large', `${redactUrl(finalUrl)} is more than the ${opts.maxBytes} byte limit`));
        cb(null, chunk);
      },
    });
    // Errors (timeout, size, network) destroy both ends; the deadline holds until the body is done.
    pipeline(res, cap, (err) => {
      clearTimeout(timer);
      if (err && !res.destroyed) res.destroy();
    });
    res.on('error', () => undefined);
    controller.signal.addEventListener('abort', () => {
      if (!cap.destroyed) cap.destroy(new FetchError('timeout', `${redactUrl(finalUrl)} did not finish within ${opts.timeoutMs} ms`));
      res.destroy();
    }, { once: true });
    return { stream: cap, contentType, contentLength, finalUrl: url.toString() };
  }
}

/** Fetches a whole (capped) body into memory: for JSON documents and images. */
export async function safeFetch(rawUrl: string, opts: SafeFetchOptions): Promise<{ body: Buffer; contentType: string; finalUrl: string }> {
  const { stream, contentType, finalUrl } = await safeFetchStream(rawUrl, opts);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { body: Buffer.concat(chunks), contentType, finalUrl };
}
