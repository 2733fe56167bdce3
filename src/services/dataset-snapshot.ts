// The stored form of a validated dataset: COCO plus, per image, the artifact holding its exact
// bytes and its resolved split. Training and evaluation read only this, never the source URL.
import { readArtifact, type ArtifactStore } from '../storage/artifact-store.js';
import type { Split } from '../ml/dataset/crops.js';

export const SNAPSHOT_FORMAT = 'assay-coco-snapshot/1';

export interface SnapshotImage {
  id: number | string;
  file_name: string;
  width: number;
  height: number;
  split: Split;
  artifact: string;
  sha256: string;
  [extra: string]: unknown;
}

export interface DatasetSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  source: { kind: 'upload' | 'url'; uri: string; sha256: string };
  labels: string[];
  images: SnapshotImage[];
  annotations: { id: number | string; image_id: number | string; category_id: number | string; bbox: [number, number, number, number] }[];
  categories: { id: number | string; name: string }[];
}

export async function readSnapshot(store: ArtifactStore, path: string): Promise<DatasetSnapshot> {
  const snapshot = JSON.parse((await readArtifact(store, path)).toString('utf8')) as DatasetSnapshot;
  if (snapshot.format !== SNAPSHOT_FORMAT) throw new Error(`${path} is not a dataset snapshot (${String(snapshot.format)})`);
  return snapshot;
}

/** Image loader for buildCropSet: the stored bytes of a snapshot image. */
export function snapshotImageLoader(store: ArtifactStore): (image: { id: number | string }) => Promise<Buffer> {
  return async (image) => readArtifact(store, (image as SnapshotImage).artifact);
}

