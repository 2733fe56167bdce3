/**
 * The picture on a detector's approval card: a few test photos in a grid, true boxes in green
 * and predicted boxes in red with class and score, so approvers see what the model does before
 * reading numbers. Drawn with sharp: each photo is scaled into a tile and an SVG overlay with
 * the boxes is composited on it; the tiles are composited onto one canvas, written as PNG.
 */
import type { CocoDetection, CocoId } from '../metrics/coco.js';
import { loadSharp } from '../sharp.js';
import type { DetectionDataset, DetectionImage } from './evaluate.js';

export const PREVIEW_COLOURS = { truth: '#00c800', predicted: '#ff0000' } as const;

export interface PreviewBox {
  /** COCO [x, y, w, h] in the photo's pixels. */
  bbox: readonly number[];
  classId: CocoId;
  /** Predicted boxes only. */
  score?: number;
}

export interface PreviewPhoto {
  bytes: Buffer;
  truth: PreviewBox[];
  predicted: PreviewBox[];
}

export interface PreviewOptions {
  /** Largest tile (each photo is scaled to fit it, aspect kept). Default 360×270. */
  tile?: { width: number; height: number };
  /** Photos drawn at most (default 4, in a 2-column grid). */
  maxPhotos?: number;
  /** Predicted boxes scoring below this are not drawn (default 0.25, the edge's threshold). */
  minScore?: number;
  /** Predicted boxes drawn per photo at most, highest scores first (default 30). */
  maxPredicted?: number;
}

const GAP = 6;
const STROKE = 3;
const LABEL_FONT = 12;

/** Text placed in SVG: class names come from outside (Salesforce option names). */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const fmt = (v: number) => (Math.round(v * 10) / 10).toString();

function overlaySvg(width: number, height: number, scale: { x: number; y: number }, photo: PreviewPhoto, name: (id: CocoId) => string, opts: Required<Pick<PreviewOptions, 'minScore' | 'maxPredicted'>>): string {
  const parts: string[] = [];
  // Strokes sit inside the box edge so a box on the photo's border stays visible.
  const rect = (b: readonly number[], colour: string) => {
    const x = Math.max(0, b[0] * scale.x) + STROKE / 2;
    const y = Math.max(0, b[1] * scale.y) + STROKE / 2;
    const w = Math.max(1, Math.min(width, (b[0] + b[2]) * scale.x) - STROKE / 2 - x);
    const h = Math.max(1, Math.min(height, (b[1] + b[3]) * scale.y) - STROKE / 2 - y);
    parts.push(`<rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(w)}" height="${fmt(h)}" fill="none" stroke="${colour}" stroke-width="${STROKE}"/>`);
    return { x, y };
  };
  for (const t of photo.truth) rect(t.bbox, PREVIEW_COLOURS.truth);
  const predicted = photo.predicted
    .filter((p) => (p.score ?? 1) >= opts.minScore)
    .sort((a, b) => (b.score ?? 0) - (a.score ?? 0))
    .slice(0, opts.maxPredicted);
  const labels: string[] = [];
  for (const p of predicted) {
    const { x, y } = rect(p.bbox, PREVIEW_COLOURS.predicted);
    const text = `${name(p.classId)}${p.score !== undefined ? ` ${p.score.toFixed(2)}` : ''}`;
    const w = Math.min(width, Math.ceil(text.length * LABEL_FONT * 0.6) + 6);
    const h = LABEL_FONT + 4;
    // Above the box when there is room, else just inside its top edge.
    const ly = y - STROKE / 2 - h >= 0 ? y - STROKE / 2 - h : y + STROKE / 2;
    const lx = Math.min(Math.max(0, x - STROKE / 2), width - w);
    labels.push(`<rect x="${fmt(lx)}" y="${fmt(ly)}" width="${w}" height="${h}" fill="${PREVIEW_COLOURS.predicted}"/>` +
      `<text x="${fmt(lx + 3)}" y="${fmt(ly + LABEL_FONT)}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${LABEL_FONT}" fill="#ffffff">${escapeXml(text)}</text>`);
  }
  // Labels last, so no box stroke crosses a label.
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}${labels.join('')}</svg>`;
}

/**
 * A PNG grid (2 columns) of up to `maxPhotos` photos with their true (green) and predicted (red,
 * "class score") boxes. `classNames` maps a box's classId to the name shown.
 */
export async function renderDetectionPreview(photos: PreviewPhoto[], classNames: ReadonlyMap<string, string> | Record<string, string>, opts: PreviewOptions = {}): Promise<Buffer> {
  const sharp = await loadSharp();
  const tile = opts.tile ?? { width: 360, height: 270 };
  const shown = photos.slice(0, Math.max(1, opts.maxPhotos ?? 4));
  if (shown.length === 0) throw new Error('no photos to draw');
  const lookup = classNames instanceof Map ? classNames : new Map(Object.entries(classNames));
  const name = (id: CocoId) => lookup.get(String(id)) ?? String(id);
  const drawOpts = { minScore: opts.minScore ?? 0.25, maxPredicted: opts.maxPredicted ?? 30 };

  const tiles = await Promise.all(shown.map(async (photo) => {
    const meta = (await sharp(photo.bytes).metadata()).autoOrient; // the size boxes refer to (decodeRgb rotates too)
    const s = Math.min(tile.width / meta.width, tile.height / meta.height);
    const width = Math.max(1, Math.round(meta.width * s));
    const height = Math.max(1, Math.round(meta.height * s));
    const svg = overlaySvg(width, height, { x: width / meta.width, y: height / meta.height }, photo, name, drawOpts);
    return sharp(photo.bytes).rotate().resize(width, height, { fit: 'fill' }).removeAlpha()
      .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
      .raw().toBuffer({ resolveWithObject: true });
  }));

  const cols = Math.min(2, tiles.length);
  const rows = Math.ceil(tiles.length / cols);
  const canvasWidth = cols * tile.width + (cols + 1) * GAP;
  const canvasHeight = rows * tile.height + (rows + 1) * GAP;
  const composite = tiles.map((t, i) => ({
    input: t.data,
    raw: { width: t.info.width, height: t.info.height, channels: t.info.channels as 3 | 4 },
    // Centred in its cell.
    left: GAP + (i % cols) * (tile.width + GAP) + Math.floor((tile.width - t.info.width) / 2),
    top: GAP + Math.floor(i / cols) * (tile.height + GAP) + Math.floor((tile.height - t.info.height) / 2),
  }));
  return sharp({ create: { width: canvasWidth, height: canvasHeight, channels: 3, background: '#202020' } })
    .composite(composite)
    .removeAlpha()
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/**
 * The photos of a preview taken from an evaluation: the first `max` images that have true boxes
 * (else any), each with its annotations and the detections the model made on it.
 */
export async function previewPhotos(
  coco: Pick<DetectionDataset, 'images' | 'annotations'>,
  detections: readonly CocoDetection[],
  loadImage: (image: DetectionImage) => Promise<Buffer>,
  max = 4,
): Promise<PreviewPhoto[]> {
  const truthBy = new Map<string, PreviewBox[]>();
  for (const a of coco.annotations) {
    const key = String(a.image_id);
    (truthBy.get(key) ?? truthBy.set(key, []).get(key)!).push({ bbox: a.bbox, classId: a.category_id });
  }
  const predictedBy = new Map<string, PreviewBox[]>();
  for (const d of detections) {
    const key = String(d.image_id);
    (predictedBy.get(key) ?? predictedBy.set(key, []).get(key)!).push({ bbox: d.bbox, classId: d.category_id, score: d.score });
  }
  const withBoxes = coco.images.filter((im) => truthBy.has(String(im.id)));
  const chosen = (withBoxes.length ? withBoxes : coco.images).slice(0, max);
  return Promise.all(chosen.map(async (im) => ({
    bytes: await loadImage(im),
    truth: truthBy.get(String(im.id)) ?? [],
    predicted: predictedBy.get(String(im.id)) ?? [],
  })));
}
