// Evaluates an exported detector ONNX on COCO images the way an edge runs it (letterbox, ONNX
// Runtime, multi-label NMS decode, boxes mapped back to the photo) and scores it with the
// pycocotools-exact evaluator. Stand-in until src/ml/detect/evaluate.ts (evaluateDetector) lands.
import * as ort from 'onnxruntime-node';
import { decodeRgb, type CocoDataset, type CocoImage } from '../../src/ml/dataset/crops.js';
import { evaluateCoco, type CocoDetection, type CocoGroundTruth } from '../../src/ml/metrics/coco.js';
import { permute } from '../../src/ml/onnx/read.js';
import { parseNamesDict } from '../../src/ml/train/detector/base.js';
import { DETECTOR_INPUT_NAME, DETECTOR_OUTPUT_NAME } from '../../src/ml/train/detector/export.js';
import { letterboxRgb } from '../../src/ml/train/detector/samples.js';
import { decodeOutput } from '../../src/ml/train/detector/val-map.js';
import { decodeModel } from '../../src/ml/onnx/read.js';

export async function evaluateOnnxDetector(
  onnx: Uint8Array,
  coco: CocoDataset,
  loadImage: (image: CocoImage) => Promise<Buffer>,
  keep: (image: CocoImage) => boolean = () => true,
): Promise<{ AP: number; AP50: number; detections: number; images: number }> {
  const props = Object.fromEntries(decodeModel(onnx).metadataProps.map((p) => [p.key, p.value]));
  const names = parseNamesDict(props.names!);
  const size = JSON.parse(props.imgsz!)[0] as number;
  const categoryOf = names.map((n) => coco.categories.find((c) => c.name === n)!.id);
  const images = coco.images.filter(keep);
  const ids = new Set(images.map((im) => String(im.id)));
  const session = await ort.InferenceSession.create(Buffer.from(onnx));
  const detections: CocoDetection[] = [];
  try {
    for (const image of images) {
      const { data, width, height } = await decodeRgb(await loadImage(image));
      const lb = await letterboxRgb(data, width, height, size);
      const hwc = Float32Array.from(lb.pixels, (v) => v / 255);
      const x = permute(hwc, [1, size, size, 3], [0, 3, 1, 2]);
      const out = (await session.run({ [DETECTOR_INPUT_NAME]: new ort.Tensor('float32', x, [1, 3, size, size]) }))[DETECTOR_OUTPUT_NAME];
      const n = out.dims[2] as number;
      for (const d of decodeOutput(out.data as Float32Array, names.length, n)) {
        const clipX = (v: number) => Math.min(width, Math.max(0, (v - lb.padLeft) / lb.ratio));
        const clipY = (v: number) => Math.min(height, Math.max(0, (v - lb.padTop) / lb.ratio));
        const [x1, y1, x2, y2] = [clipX(d.box[0]), clipY(d.box[1]), clipX(d.box[2]), clipY(d.box[3])];
        detections.push({ image_id: image.id, category_id: categoryOf[d.cls], bbox: [x1, y1, x2 - x1, y2 - y1], score: d.score });
      }
    }
  } finally {
    await session.release();
  }
  const annotations = coco.annotations
    .filter((a) => ids.has(String(a.image_id)))
    .map((a) => ({ ...a, area: a.bbox[2] * a.bbox[3], iscrowd: 0 }));
  const { stats } = evaluateCoco({ images, annotations, categories: coco.categories } as unknown as CocoGroundTruth, detections);
  return { AP: stats.AP, AP50: stats.AP50, detections: detections.length, images: images.length };
}
