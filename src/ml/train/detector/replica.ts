/**
 * The detector as a ReplicaModel, so the data-parallel runner (../parallel/runner.ts) trains it on
 * every core: shards are contiguous images weighted by their positives (splitDetectorBatch), and
 * each shard reports its unnormalised loss parts so the trainer can rebuild the batch's.
 */
import type { Replica, ReplicaModel, ReplicaModelRef } from '../parallel/replica.js';
import { siblingModule } from '../spawn-worker.js';
import { splitDetectorBatch, type DetectorBatch } from './batch.js';
import { detectorLossTerms } from './loss.js';
import { buildDetector, type Detector, type DetectorSpec } from './model.js';

export function detectorReplica(model: Detector): Replica<DetectorBatch> {
  return {
    variables: model.variables,
    loss(batch) {
      const t = detectorLossTerms(model, batch);
      return { loss: t.total, sums: { cls: t.clsSum, box: t.boxSum } };
    },
    dispose: () => model.dispose(),
  };
}

export const detectorReplicaModel: ReplicaModel<DetectorSpec, DetectorBatch> = {
  build: (spec) => detectorReplica(buildDetector(spec)),
  split: splitDetectorBatch,
};

export const detectorReplicaRef: ReplicaModelRef = {
  moduleUrl: siblingModule(import.meta.url, 'replica').href,
  exportName: 'detectorReplicaModel',
};
