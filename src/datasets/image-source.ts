// Where a dataset image's bytes come from: a data URI, an absolute URL, or a path relative to
// the image base URL (info.image_base_url, else the dataset URL's folder). URLs go through the
// SSRF-safe fetcher like the dataset itself.
import type { Metadata } from 'sharp';
import { loadSharp } from '../ml/sharp.js';
import { FetchError, safeFetch, type SafeFetchOptions } from './safe-fetch.js';
import type { CocoImageEntry } from './coco.js';

export class ImageSourceError extends Error {
  constructor(
    readonly reason: 'unreachable' | 'undecodable' | 'no_source' | 'too_large',
    message: string,
    readonly transient = false,
  ) {
    super(message);
    this.name = 'ImageSourceError';
  }
}

const DATA_URI = /^data:(image\/[a-z0-9.+-]+)?(;[a-z0-9=.-]+)*?(;base64)?,/i;

/** The URL an image is fetched from, or null for a data URI. Throws when nothing can be resolved. */
export function imageLocation(image: Pick<CocoImageEntry, 'file_name' | 'coco_url'>, baseUrl: string | undefined): string | null {
  const ref = image.file_name;
  if (DATA_URI.test(ref)) return null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return ref;
  if (image.coco_url && /^https?:\/\//i.test(image.coco_url)) return image.coco_url;
  if (!baseUrl) throw new ImageSourceError('no_source', `"${ref.slice(0, 80)}" is a relative path and the dataset has no image base URL (set info.image_base_url)`);
  return new URL(ref.replace(/^\/+/, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString();
}

function decodeDataUri(ref: string): Buffer {
  const m = DATA_URI.exec(ref)!;
  const payload = ref.slice(m[0].length);
  return m[3] ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'latin1');
}

export async function loadImageBytes(image: CocoImageEntry, baseUrl: string | undefined, fetchOptions: SafeFetchOptions): Promise<Buffer> {
  const location = imageLocation(image, baseUrl);
  if (location === null) return decodeDataUri(image.file_name);
  try {
    return (await safeFetch(location, { ...fetchOptions, accept: ['image/', 'application/octet-stream', 'binary/octet-stream'] })).body;
  } catch (e) {
    if (e instanceof FetchError) throw new ImageSourceError('unreachable', e.message, e.transient);
    throw e;
  }
}

export interface DecodedImage {
  width: number;
  height: number;
  /** File extension of the detected format (png, jpg, webp...). */
  format: string;
}

export interface DecodeLimits {
  /** Images with more pixels (width × height) are refused from their header, never decoded. */
  maxPixels: number;
  /** Decodes running at once in this process (each may hold up to maxPixels × 4 bytes). */
  concurrency: number;
}

/** Process-wide: every job's decodes share these slots, so two jobs cannot double the peak memory. */
let slots: { limit: number; busy: number; waiting: (() => void)[] } = { limit: 2, busy: 0, waiting: [] };

async function withDecodeSlot<T>(limit: number, fn: () => Promise<T>): Promise<T> {
  if (slots.limit !== limit && slots.busy === 0) slots = { limit, busy: 0, waiting: [] };
  const s = slots;
  if (s.busy >= s.limit) await new Promise<void>((r) => s.waiting.push(r));
  else s.busy++;
  try {
    return await fn();
  } finally {
    const next = s.waiting.shift();
    if (next) next();
    else s.busy--;
  }
}

const mp = (pixels: number) => `${(pixels / 1e6).toFixed(1)} megapixels`;

/**
 * Reads the size from the header first (no pixels decoded) and refuses images above the pixel
 * limit — a 1 MB PNG can declare 16383×16383 and cost a gigabyte decoded. Within the limit the
 * pixels are then decoded in full (a header alone does not prove they are readable), streamed
 * into a thumbnail so a decode never holds the whole bitmap when the format allows it.
 * Size is EXIF-oriented.
 */
export async function decodeImage(bytes: Buffer, limits: DecodeLimits): Promise<DecodedImage> {
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageSourceError('undecodable', `not a decodable image (${(e as Error).message.split('\n')[0]})`);
  }
  // Multi-page images (GIF, TIFF) load their first page only, which is what width × height describes.
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const pixels = width * height;
  if (!width || !height) throw new ImageSourceError('undecodable', 'not a decodable image (no size in its header)');
  if (pixels > limits.maxPixels) {
    throw new ImageSourceError('too_large', `${width}×${height} is ${mp(pixels)}, more than the ${mp(limits.maxPixels)} limit (DATASET_MAX_IMAGE_PIXELS); not decoded`);
  }
  try {
    await withDecodeSlot(limits.concurrency, () =>
      sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels, sequentialRead: true }).resize(32, 32, { fit: 'inside' }).raw().toBuffer(),
    );
  } catch (e) {
    throw new ImageSourceError('undecodable', `not a decodable image (${(e as Error).message.split('\n')[0]})`);
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  const format = meta.format === 'jpeg' ? 'jpg' : String(meta.format ?? 'bin');
  return { width: rotated ? height : width, height: rotated ? width : height, format: /^[a-z0-9]{1,10}$/.test(format) ? format : 'bin' };
}
