// The COCO JSON accepted as a training dataset: images (by URL, path relative to an image base
// URL, or data URI), annotations with bbox [x, y, w, h] in pixels, and categories.
import { z } from 'zod';

const id = z.union([z.number().int(), z.string().min(1).max(200)]);

export const cocoImageSchema = z
  .object({
    id,
    file_name: z.string().min(1).max(10 * 1024 * 1024),
    width: z.number().int().positive().optional(),
    height: z.number().int().positive().optional(),
    split: z.enum(['train', 'val', 'test']).optional(),
    coco_url: z.string().optional(),
  })
  .passthrough();

export const cocoAnnotationSchema = z
  .object({
    id,
    image_id: id,
    category_id: id,
    bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  })
  .passthrough();

export const cocoCategorySchema = z.object({ id, name: z.string().min(1).max(100) }).passthrough();

export const cocoSchema = z
  .object({
    info: z.object({ image_base_url: z.string().optional() }).passthrough().optional(),
    images: z.array(cocoImageSchema).min(1, 'the dataset has no images'),
    annotations: z.array(cocoAnnotationSchema),
    categories: z.array(cocoCategorySchema).min(1, 'the dataset has no categories'),
  })
  .passthrough();

export type Coco = z.infer<typeof cocoSchema>;
export type CocoImageEntry = z.infer<typeof cocoImageSchema>;

export type CocoParse = { ok: true; coco: Coco } | { ok: false; error: string };

/** Parses bytes into a COCO document, or says in one line why not (first problem, with its path). */
export function parseCoco(bytes: Buffer): CocoParse {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return { ok: false, error: `The dataset is not valid JSON (${(e as Error).message})` };
  }
  const parsed = cocoSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'document'}: ${i.message}`);
    return { ok: false, error: `The dataset is not COCO JSON: ${issues.join('; ')}${parsed.error.issues.length > 3 ? ` (+${parsed.error.issues.length - 3} more)` : ''}` };
  }
  return { ok: true, coco: parsed.data };
}
