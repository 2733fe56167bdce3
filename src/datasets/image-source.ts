// Where a dataset image's bytes come from: a data URI, an absolute URL, or a path relative to
// the image base URL (info.image_base_url, else the dataset URL's folder). URLs go through the
// SSRF-safe fetcher like the dataset itself.
import { loadSharp } from '../ml/sharp.js';
import { FetchError, safeFetch, type SafeFetchOptions } from './safe-fetch.js';
import type { CocoImageEntry } from './coco.js';

export class ImageSourceError extends Error {
  constructor(
    readonly reason: 'unreachable' | 'undecodable' | 'no_source',
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

/** Fully decodes with sharp (a header alone does not prove the pixels are readable). Size is EXIF-oriented. */
export async function decodeImage(bytes: Buffer): Promise<DecodedImage> {
  try {
    const sharp = await loadSharp();
    const meta = await sharp(bytes, { failOn: 'error' }).metadata();
    const { info } = await sharp(bytes, { failOn: 'error' }).rotate().raw().toBuffer({ resolveWithObject: true });
    const format = meta.format === 'jpeg' ? 'jpg' : String(meta.format ?? 'bin');
    return { width: info.width, height: info.height, format: /^[a-z0-9]{1,10}$/.test(format) ? format : 'bin' };
  } catch (e) {
    throw new ImageSourceError('undecodable', `not a decodable image (${(e as Error).message.split('\n')[0]})`);
  }
}
