// The preview picture of a detector's evaluation, kept as an artifact so whichever process posts
// to Slack can read it: its path goes into the model's metrics as `previewPath`, and the
// evaluation.completed listener uploads it to the training's thread.
import type { CocoDetection, CocoId } from '../ml/metrics/coco.js';
import type { DetectionDataset, DetectionImage } from '../ml/detect/evaluate.js';
import type { ArtifactStore } from '../storage/artifact-store.js';

/**
 * Draws up to 4 test photos with true and predicted boxes and stores the PNG; returns its path.
 * `coco` is the split evaluated, `detections` what the model found on it.
 */
export async function storeDetectionPreview(
  store: ArtifactStore,
  coco: DetectionDataset,
  detections: readonly CocoDetection[],
  loadImage: (image: DetectionImage) => Promise<Buffer>,
): Promise<string> {
  // sharp loads when a preview is drawn, not when the process starts.
  const { previewPhotos, renderDetectionPreview } = await import('../ml/detect/preview.js');
  const names = new Map<string, string>(coco.categories.map((c: { id: CocoId; name: string }) => [String(c.id), c.name]));
  const png = await renderDetectionPreview(await previewPhotos(coco, detections, loadImage), names);
  return (await store.put(png, { kind: 'image', extension: 'png' })).path;
}
