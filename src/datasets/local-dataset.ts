// A COCO file on the operator's disk (`assay model import --dataset ./coco.json`): its images are
// files relative to the dataset's folder, which the server-side intake cannot fetch (it fetches
// URLs only, SSRF-safe). They are inlined as data URIs, so the intake checks, decodes and stores
// them like any other dataset's images; the snapshot keeps the stored artifacts, not the URIs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export class LocalDatasetError extends Error {
  override name = 'LocalDatasetError';
}

/** Refuse before reading: a local dataset is read whole into memory. */
const MAX_TOTAL_BYTES = 1024 * 1024 * 1024;

export async function readLocalCocoDocument(file: string, maxTotalBytes = MAX_TOTAL_BYTES): Promise<{ bytes: Buffer; uri: string }> {
  const abs = path.resolve(file);
  let doc: { images?: unknown };
  try {
    doc = JSON.parse((await readFile(abs)).toString('utf8')) as { images?: unknown };
  } catch (e) {
    throw new LocalDatasetError(`cannot read the dataset ${file}: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.images)) throw new LocalDatasetError(`${file} is not a COCO file (no "images" array)`);
  const dir = path.dirname(abs);
  let total = 0;
  const images = [];
  for (const image of doc.images as Array<Record<string, unknown>>) {
    const name = typeof image?.file_name === 'string' ? image.file_name : '';
    // URLs and data URIs are left for the intake; only relative paths are local files.
    if (!name || /^[a-z][a-z0-9+.-]*:/i.test(name)) {
      images.push(image);
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(path.resolve(dir, name));
    } catch (e) {
      throw new LocalDatasetError(`cannot read image ${JSON.stringify(image.id)} (${name}) of ${file}: ${(e as Error).message}`);
    }
    total += bytes.length;
    if (total > maxTotalBytes) throw new LocalDatasetError(`the images of ${file} exceed ${Math.round(maxTotalBytes / 1024 / 1024)} MB`);
    images.push({ ...image, file_name: `data:;base64,${bytes.toString('base64')}`, source_file: name });
  }
  return { bytes: Buffer.from(JSON.stringify({ ...doc, images })), uri: `file://${abs}` };
}
