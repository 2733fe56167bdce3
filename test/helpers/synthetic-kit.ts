/**
 * Synthetic "test kit" photos for ML tests: traffic lights (red/yellow/green lamp lit in a dark
 * housing) and signs (octagon stop, inverted-triangle yield, diamond warning) drawn as SVG and
 * composited by sharp onto noisy backgrounds, with varied sizes, positions and colour jitter.
 * Output is COCO JSON + PNG buffers. Fully determined by `seed`.
 */
import sharp from 'sharp';
import type { CocoDataset, CocoImage, Split } from '../../src/ml/dataset/crops.js';
import { seededRandom as rng } from '../../src/ml/random.js';
import { jitter as shade, noisySquare, trafficLight } from '../../src/testing/drawing.js';

export const SYNTHETIC_LABELS = ['red_light', 'yellow_light', 'green_light', 'stop_sign', 'yield_sign', 'warning_sign'] as const;
/** A category present in the COCO file that tests can leave out of labelToIndex. */
export const DISTRACTOR_LABEL = 'smudge';

/** 70/10/20: a larger test split makes the accuracy threshold meaningful on a small set. */
const SPLIT_PATTERN: Split[] = ['train', 'train', 'test', 'train', 'train', 'val', 'train', 'train', 'test', 'train'];

export interface SyntheticKitOptions {
  seed: number;
  /** Number of images (each holds 3–4 objects). */
  images: number;
  /** Square image side in pixels. */
  size?: number;
  /** 'field' (default): set image.split 70/10/20 round-robin; 'hash': leave it unset (derived from the id). */
  splitMode?: 'field' | 'hash';
  /** Add an unlabelled-category annotation to every 4th image. */
  distractors?: boolean;
}

export interface SyntheticKit {
  coco: CocoDataset;
  png: Map<string, Buffer>;
  labels: string[];
  loadImage: (image: CocoImage) => Promise<Buffer>;
}


/** The kits' colours jitter a little more than the demo's. */
const jitter = (random: () => number, rgb: [number, number, number], j = 28) => shade(random, rgb, j);

const poly = (pts: Array<[number, number]>) => pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');

/** SVG for one object in box (x, y, w, h). */
function drawObject(label: string, x: number, y: number, w: number, h: number, random: () => number): string {
  const cx = x + w / 2;
  const cy = y + h / 2;
  switch (label) {
    case 'red_light': case 'yellow_light': case 'green_light':
      return trafficLight(label, x, y, w, h, random, 28);
    case 'stop_sign': {
      const r = w / 2;
      const oct = (rr: number) => poly(Array.from({ length: 8 }, (_, i) => {
        const a = Math.PI / 8 + (i * Math.PI) / 4;
        return [cx + rr * Math.cos(a), cy + rr * Math.sin(a)] as [number, number];
      }));
      return `<polygon points="${oct(r)}" fill="#fff"/><polygon points="${oct(r * 0.86)}" fill="${jitter(random, [200, 20, 30])}"/>`
        + `<rect x="${cx - r * 0.5}" y="${cy - r * 0.12}" width="${r}" height="${r * 0.24}" fill="#fff"/>`;
    }
    case 'yield_sign': {
      const tri = (inset: number) => poly([[x + inset * 1.7, y + inset], [x + w - inset * 1.7, y + inset], [cx, y + h - inset * 2]]);
      return `<polygon points="${tri(0)}" fill="${jitter(random, [210, 25, 35])}"/><polygon points="${tri(w * 0.14)}" fill="${jitter(random, [245, 245, 245], 10)}"/>`;
    }
    case 'warning_sign': {
      const dia = (inset: number) => poly([[cx, y + inset], [x + w - inset, cy], [cx, y + h - inset], [x + inset, cy]]);
      return `<polygon points="${dia(0)}" fill="#111"/><polygon points="${dia(w * 0.08)}" fill="${jitter(random, [245, 195, 20])}"/>`
        + `<rect x="${cx - w * 0.04}" y="${cy - h * 0.22}" width="${w * 0.08}" height="${h * 0.3}" fill="#111"/>`;
    }
    default: // distractor: a soft grey blob
      return `<ellipse cx="${cx}" cy="${cy}" rx="${w / 2}" ry="${h / 3}" fill="${jitter(random, [150, 150, 150], 40)}" opacity="0.7"/>`;
  }
}

export async function generateSyntheticKit(opts: SyntheticKitOptions): Promise<SyntheticKit> {
  const size = opts.size ?? 128;
  const random = rng(opts.seed);
  const labels = [...SYNTHETIC_LABELS];
  const categories = [...labels, DISTRACTOR_LABEL].map((name, i) => ({ id: i + 1, name }));
  const coco: CocoDataset = { images: [], annotations: [], categories };
  const png = new Map<string, Buffer>();
  const cell = size / 2;
  let annId = 1;
  for (let im = 0; im < opts.images; im++) {
    const id = 1000 + im;
    const cells = [0, 1, 2, 3];
    for (let i = 3; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [cells[i], cells[j]] = [cells[j], cells[i]];
    }
    cells.length = 3 + (random() < 0.5 ? 1 : 0);
    const shapes: string[] = [];
    cells.forEach((c, k) => {
      const distractor = opts.distractors && im % 4 === 0 && k === 0;
      const label = distractor ? DISTRACTOR_LABEL : labels[Math.floor(random() * labels.length)];
      const isLight = label.endsWith('_light');
      const h = Math.round(cell * (0.45 + random() * 0.45));
      const w = Math.round(isLight ? h * (0.4 + random() * 0.1) : h);
      const x = Math.round((c % 2) * cell + random() * (cell - w));
      const y = Math.round(Math.floor(c / 2) * cell + random() * (cell - h));
      shapes.push(drawObject(label, x, y, w, h, random));
      // Annotators are not pixel-exact: jitter the box edges by up to 2px.
      const e = () => Math.round((random() * 2 - 1) * 2);
      const bx = Math.max(0, x + e());
      const by = Math.max(0, y + e());
      coco.annotations.push({
        id: annId++, image_id: id, category_id: categories.find((cat) => cat.name === label)!.id,
        bbox: [bx, by, Math.min(size - bx, w + e()), Math.min(size - by, h + e())],
      });
    });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">${shapes.join('')}</svg>`;
    const image = await sharp(noisySquare(size, random, 45), { raw: { width: size, height: size, channels: 3 } })
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      .png()
      .toBuffer();
    const fileName = `kit_${id}.png`;
    png.set(fileName, image);
    const split: Split | undefined = opts.splitMode === 'hash' ? undefined : SPLIT_PATTERN[im % SPLIT_PATTERN.length];
    coco.images.push({ id, file_name: fileName, width: size, height: size, ...(split ? { split } : {}) });
  }
  const loadImage = async (image: CocoImage) => {
    const buf = png.get(image.file_name);
    if (!buf) throw new Error(`no synthetic image ${image.file_name}`);
    return buf;
  };
  return { coco, png, labels, loadImage };
}
