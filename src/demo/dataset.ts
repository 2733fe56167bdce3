// The demo's dataset: synthetic photos of a traffic-light test panel (a dark housing with the
// red, yellow or green lamp lit) drawn as SVG and composited by sharp onto noisy backgrounds,
// with a COCO file whose images live on a small local HTTP server. Fully determined by `seed`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadSharp } from '../ml/sharp.js';
import { seededRandom as rng } from '../ml/random.js';
import { LIGHT_LABELS, noisySquare, trafficLight } from '../testing/drawing.js';

export const DEMO_LABELS = LIGHT_LABELS;

export interface DemoDatasetOptions {
  seed: number;
  /** Crops wanted: images × 4 (one object per quadrant). */
  crops: number;
  /** Square image side in pixels. */
  imageSize?: number;
  labels?: readonly string[];
}

export interface DemoDataset {
  coco: { info: Record<string, unknown>; images: Record<string, unknown>[]; annotations: Record<string, unknown>[]; categories: { id: number; name: string }[] };
  images: Map<string, Buffer>;
  labels: string[];
  crops: number;
}

/** 70/10/20 train/val/test by image, so every split has every label. */
const SPLITS = ['train', 'train', 'test', 'train', 'train', 'val', 'train', 'train', 'test', 'train'] as const;

export async function generateDemoDataset(opts: DemoDatasetOptions): Promise<DemoDataset> {
  const size = opts.imageSize ?? 96;
  const labels = [...(opts.labels ?? DEMO_LABELS)];
  const random = rng(opts.seed);
  const categories = labels.map((name, i) => ({ id: i + 1, name }));
  const coco: DemoDataset['coco'] = { info: { description: 'Assay demo: synthetic traffic-light panels' }, images: [], annotations: [], categories };
  const images = new Map<string, Buffer>();
  const cell = size / 2;
  const count = Math.ceil(opts.crops / 4);
  let annId = 1;
  for (let im = 0; im < count; im++) {
    const id = 1 + im;
    const shapes: string[] = [];
    for (let c = 0; c < 4; c++) {
      // Round-robin labels keep the classes balanced; the lit lamp is what tells them apart.
      const label = labels[(im * 4 + c) % labels.length]!;
      const h = Math.round(cell * (0.6 + random() * 0.3));
      const w = Math.round(h * (0.4 + random() * 0.1));
      const x = Math.round((c % 2) * cell + random() * (cell - w));
      const y = Math.round(Math.floor(c / 2) * cell + random() * (cell - h));
      shapes.push(trafficLight(label, x, y, w, h, random));
      coco.annotations.push({ id: annId++, image_id: id, category_id: categories.find((k) => k.name === label)!.id, bbox: [x, y, w, h] });
    }
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">${shapes.join('')}</svg>`;
    const sharp = await loadSharp();
    const png = await sharp(noisySquare(size, random, 40), { raw: { width: size, height: size, channels: 3 } })
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      .png()
      .toBuffer();
    const name = `panel_${String(id).padStart(5, '0')}.png`;
    images.set(name, png);
    coco.images.push({ id, file_name: name, width: size, height: size, split: SPLITS[im % SPLITS.length] });
  }
  return { coco, images, labels, crops: coco.annotations.length };
}

/** A guide image for the label step: one panel with `label`'s lamp lit. */
export async function guideImage(label: string, seed = 7): Promise<Buffer> {
  const random = rng(seed);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96">${trafficLight(label, 30, 8, 36, 80, random)}</svg>`;
  const sharp = await loadSharp();
  return sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 235, g: 235, b: 235 } } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
}

/** Serves the dataset's images (and any extra files) over HTTP on 127.0.0.1, counting requests. */
export class DatasetServer {
  private server: http.Server | undefined;
  private readonly files = new Map<string, { body: Buffer; type: string }>();
  base = '';
  requests = 0;

  put(path: string, body: Buffer, type: string): string {
    this.files.set(path, { body, type });
    return `${this.base}${path}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.requests++;
      const file = this.files.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (!file || req.method !== 'GET') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
      res.end(file.body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Publishes the images and returns the COCO bytes pointing at them (info.image_base_url). */
  publish(dataset: DemoDataset): Buffer {
    for (const [name, png] of dataset.images) this.put(`/images/${name}`, png, 'image/png');
    const coco = { ...dataset.coco, info: { ...dataset.coco.info, image_base_url: `${this.base}/images/` } };
    const bytes = Buffer.from(JSON.stringify(coco));
    this.put('/coco.json', bytes, 'application/json');
    return bytes;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
