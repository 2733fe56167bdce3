/**
 * worker_threads entry of one peer replica (see runner.ts): builds the model from its
 * ReplicaModelRef, then for each step copies the published weights in, computes its shard's
 * gradients into its slice of the shared gradient buffer and answers with the loss and sums.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendPreference } from '../backend.js';
import type { ReplicaModel, ReplicaModelRef } from './replica.js';
import { shardGradients } from './runner.js';

export interface PeerData {
  rank: number;
  ref: ReplicaModelRef;
  spec: unknown;
  backend: BackendPreference;
  /** Rank 0's variable shapes, to check this replica has the same layout. */
  shapes: number[][];
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

export type PeerMessage =
  | { type: 'ready' }
  | { type: 'done'; loss: number; sums: Record<string, number> }
  | { type: 'error'; message: string; stack?: string };

if (!parentPort) throw new Error('replica-worker.ts must be started as a worker thread (see runner.ts)');
const port = parentPort;
const data = workerData as PeerData;
const post = (m: PeerMessage) => port.postMessage(m);
const fail = (err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', message: e.message, stack: e.stack });
};

try {
  await selectBackend(data.backend, { info: () => undefined });
  const mod = (await import(data.ref.moduleUrl)) as Record<string, ReplicaModel<unknown, unknown>>;
  const model = mod[data.ref.exportName];
  if (!model) throw new Error(`${data.ref.moduleUrl} exports no ${data.ref.exportName}`);
  const replica = model.build(data.spec);
  const shapes = replica.variables.map((v) => v.shape);
  if (JSON.stringify(shapes) !== JSON.stringify(data.shapes)) {
    throw new Error(`replica variables ${JSON.stringify(shapes)} differ from rank 0's ${JSON.stringify(data.shapes)}`);
  }
  const total = shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  const weights = new Float32Array(data.weights);
  const grads = new Float32Array(data.grads, data.rank * total * 4, total);

  port.on('message', (m: { type: 'step'; batch: unknown }) => {
    try {
      let off = 0;
      for (const v of replica.variables) {
        tf.tidy(() => v.assign(tf.tensor(weights.slice(off, off + v.size), v.shape, 'float32')));
        off += v.size;
      }
      const r = shardGradients(replica, m.batch);
      off = 0;
      for (const g of r.grads) {
        grads.set(g.dataSync() as Float32Array, off);
        off += g.size;
        g.dispose();
      }
      post({ type: 'done', loss: r.loss, sums: r.sums });
    } catch (err) {
      fail(err);
    }
  });
  post({ type: 'ready' });
} catch (err) {
  fail(err);
}
