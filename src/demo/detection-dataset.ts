// A detection dataset like the demo's: landscape photos of traffic-light test panels (the demo's
// panels, drawn by src/testing/drawing.ts) scattered at random sizes on noisy backgrounds, 3–5 per photo, with a
// COCO file of their boxes. Fully determined by `seed`; publish it with DatasetServer like the demo's.
import { seededRandom } from '../ml/random.js';
import { loadSharp } from '../ml/sharp.js';
import { trafficLight } from '../testing/drawing.js';
import { DEMO_LABELS, type DemoDataset } from './dataset.js';

export interface DetectionDatasetOptions {
  seed: number;
  /** Photos to draw (about 4 panels each). */
  images: number;
  width?: number;
  height?: number;
  /** Panel height range as fractions of the photo height. */
  panelHeight?: [number, number];
  labels?: readonly string[];
  /** Every image's split; default 80/10/10 train/val/test by position (so every split has every label). */
  split?: 'train' | 'val' | 'test';
}

const SPLITS = ['train', 'train', 'train', 'train', 'val', 'train', 'train', 'train', 'train', 'test'] as const;

type Rect = [number, number, number, number];

/**
 * Raw RGB noise (±40) around a random base colour, like the demo's backgrounds. The per-pixel noise
 * comes from an xorshift seeded by `random`: no Math calls per pixel, which are ~100× slower inside
 * jest's vm contexts than in plain Node.
 */
function noisyBackground(width: number, height: number, random: () => number): Buffer {
  const base = [40 + random() * 160, 40 + random() * 160, 40 + random() * 160];
  const buf = Buffer.alloc(width * height * 3);
  let x = (random() * 0xffffffff) | 1;
  for (let i = 0, c = 0; i < buf.length; i++, c = c === 2 ? 0 : c + 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const v = base[c] + ((x & 0xff) - 127.5) * (40 / 127.5);
    buf[i] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
  }
  return buf;
}
const overlaps = (a: Rect, b: Rect, margin: number) =>
  a[0] < b[0] + b[2] + margin && b[0] < a[0] + a[2] + margin && a[1] < b[1] + b[3] + margin && b[1] < a[1] + a[3] + margin;

export async function generateDetectionDataset(opts: DetectionDatasetOptions): Promise<DemoDataset> {
  const width = opts.width ?? 320;
  const height = opts.height ?? 240;
  const [minH, maxH] = opts.panelHeight ?? [0.18, 0.45];
  const labels = [...(opts.labels ?? DEMO_LABELS)];
  const random = seededRandom(opts.seed);
  const categories = labels.map((name, i) => ({ id: i + 1, name }));
  const coco: DemoDataset['coco'] = { info: { description: 'Assay demo: synthetic traffic-light panels (detection)' }, images: [], annotations: [], categories };
  const images = new Map<string, Buffer>();
  const sharp = await loadSharp();
  let annId = 1;
  let turn = 0;
  for (let im = 0; im < opts.images; im++) {
    const id = im + 1;
    const wanted = 3 + Math.floor(random() * 3);
    const placed: Rect[] = [];
    const shapes: string[] = [];
    for (let tries = 0; placed.length < wanted && tries < 200; tries++) {
      const h = Math.round(height * (minH + random() * (maxH - minH)));
      const w = Math.round(h * (0.4 + random() * 0.1));
      const rect: Rect = [Math.round(random() * (width - w)), Math.round(random() * (height - h)), w, h];
      if (placed.some((p) => overlaps(p, rect, 2))) continue;
      placed.push(rect);
      // Round-robin labels keep the classes balanced; the lit lamp is what tells them apart.
      const label = labels[turn++ % labels.length]!;
      shapes.push(trafficLight(label, ...rect, random));
      coco.annotations.push({ id: annId++, image_id: id, category_id: categories.find((k) => k.name === label)!.id, bbox: rect, area: rect[2] * rect[3], iscrowd: 0 });
    }
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
    const png = await sharp(noisyBackground(width, height, random), { raw: { width, height, channels: 3 } })
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      .png()
      .toBuffer();
    const name = `scene_${String(id).padStart(5, '0')}.png`;
    images.set(name, png);
    coco.images.push({ id, file_name: name, width, height, split: opts.split ?? SPLITS[im % SPLITS.length] });
  }
  return { coco, images, labels, crops: coco.annotations.length };
}
