/**
 * Synchronous data-parallel training over worker threads (one replica per core). Every step the
 * batch is cut into shards; each replica computes the gradient of its shard; this thread (rank 0,
 * the parameter owner) adds them up in rank order with the shards' weights, applies the optimizer
 * once and publishes the new weights, which the other replicas copy in before their next shard.
 *
 * Reproducible: the shards, the order of the sum and every kernel are fixed, so the same seed and
 * the same replica count give bit-identical weights. Against one replica the only difference is
 * float rounding (a sum of shard gradients instead of one batch gradient).
 * Weights and gradients travel through SharedArrayBuffers; a shard's arrays are transferred.
 */
import * as tf from '@tensorflow/tfjs';
import type { Worker } from 'node:worker_threads';
import type { BackendPreference } from '../backend.js';
import { buffersOf, isPlainArrayBuffer, siblingModule, startModuleWorker } from '../spawn-worker.js';
import type { Replica, ReplicaModel, ReplicaModelRef } from './replica.js';
import type { PeerData, PeerMessage } from './replica-worker.js';

export interface RunnerOptions<Spec, Batch> {
  /** The model definition (this thread splits batches with it). */
  model: ReplicaModel<Spec, Batch>;
  /** The same definition, for the worker threads to import. */
  ref: ReplicaModelRef;
  spec: Spec;
  /** This thread's replica, with the starting weights (fresh or fine-tuned). */
  replica: Replica<Batch>;
  optimizer: tf.Optimizer;
  /** Replicas in all, this thread included; 1 runs everything here. */
  replicas: number;
  /** The backend the peers select: the one this thread runs on. */
  backend: BackendPreference;
}

export interface StepResult {
  loss: number;
  sums: Record<string, number>;
}

interface Peer {
  worker: Worker;
  pending: { resolve: (m: Extract<PeerMessage, { type: 'done' }>) => void; reject: (e: Error) => void } | null;
  failure: Error | null;
}

/** Copies views that do not span their buffer, so transferring them moves only their own bytes. */
function transferable<B>(batch: B): { batch: B; transfer: ArrayBuffer[] } {
  const out: Record<string, unknown> = { ...(batch as Record<string, unknown>) };
  const views: ArrayBufferView[] = [];
  for (const [k, v] of Object.entries(out)) {
    if (!ArrayBuffer.isView(v)) continue;
    const whole = v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && isPlainArrayBuffer(v.buffer);
    const own = whole ? v : (v as unknown as { slice(): ArrayBufferView }).slice();
    out[k] = own;
    views.push(own);
  }
  return { batch: out as B, transfer: buffersOf(views) };
}

/** Runs `replica.loss` under variableGrads; returns the loss, the kept sums and the gradients in variable order. */
export function shardGradients<Batch>(replica: Replica<Batch>, batch: Batch): { loss: number; sums: Record<string, number>; grads: tf.Tensor[] } {
  const kept: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const r = replica.loss(batch);
    for (const [k, s] of Object.entries(r.sums ?? {})) kept[k] = tf.keep(s);
    return r.loss;
  }, replica.variables);
  const loss = value.dataSync()[0];
  value.dispose();
  const sums = Object.fromEntries(Object.entries(kept).map(([k, s]) => [k, s.dataSync()[0]]));
  Object.values(kept).forEach((s) => s.dispose());
  return { loss, sums, grads: replica.variables.map((v) => grads[v.name]) };
}

export class DataParallelRunner<Spec, Batch> {
  private readonly sizes: number[];
  private readonly total: number;
  private weights: Float32Array | null = null;
  private grads: Float32Array | null = null;
  private readonly peers: Peer[] = [];
  private closed = false;

  private constructor(private readonly opts: RunnerOptions<Spec, Batch>) {
    this.sizes = opts.replica.variables.map((v) => v.size);
    this.total = this.sizes.reduce((a, b) => a + b, 0);
  }

  /** Starts the peer replicas (replicas − 1 worker threads) and waits until each has built its model. */
  static async start<Spec, Batch>(opts: RunnerOptions<Spec, Batch>): Promise<DataParallelRunner<Spec, Batch>> {
    const runner = new DataParallelRunner(opts);
    const n = Math.max(1, Math.floor(opts.replicas));
    if (n > 1) {
      runner.weights = new Float32Array(new SharedArrayBuffer(runner.total * 4));
      runner.grads = new Float32Array(new SharedArrayBuffer(runner.total * 4 * n));
      try {
        await Promise.all(Array.from({ length: n - 1 }, (_, i) => runner.startPeer(i + 1)));
      } catch (err) {
        await runner.close();
        throw err;
      }
    }
    return runner;
  }

  get replicas(): number {
    return this.peers.length + 1;
  }

  private startPeer(rank: number): Promise<void> {
    const data: PeerData = {
      rank, ref: this.opts.ref, spec: this.opts.spec, backend: this.opts.backend,
      shapes: this.opts.replica.variables.map((v) => v.shape), weights: this.weights!.buffer as SharedArrayBuffer, grads: this.grads!.buffer as SharedArrayBuffer,
    };
    const worker = startModuleWorker(siblingModule(import.meta.url, 'replica-worker'), { workerData: data });
    const peer: Peer = { worker, pending: null, failure: null };
    this.peers.push(peer);
    const fail = (err: Error) => {
      peer.failure ??= err;
      peer.pending?.reject(err);
      peer.pending = null;
    };
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: PeerMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'done') { const p = peer.pending; peer.pending = null; p?.resolve(m); }
        else if (m.type === 'error') { const e = new Error(`replica ${rank}: ${m.message}`); e.stack = m.stack; fail(e); reject(e); }
      });
      worker.on('error', (err) => { fail(err); reject(err); });
      worker.on('exit', (code) => {
        const e = new Error(`replica ${rank} exited (code ${code})`);
        if (!this.closed) fail(e);
        reject(e);
      });
    });
  }

  /** Publishes this thread's current weights to the peers' shared buffer. */
  private publishWeights(): void {
    let off = 0;
    for (const v of this.opts.replica.variables) {
      this.weights!.set(v.dataSync() as Float32Array, off);
      off += v.size;
    }
  }

  /** One synchronous step: gradients of every shard, combined in rank order, one optimizer update. */
  async step(batch: Batch): Promise<StepResult> {
    if (this.closed) throw new Error('the runner is closed');
    const shards = this.opts.model.split(batch, this.replicas);
    const vars = this.opts.replica.variables;
    if (shards.length === 1) {
      // One shard (one replica, or a batch too small to split): weight 1, no copies.
      const { loss, sums, grads } = shardGradients(this.opts.replica, shards[0]!.batch);
      this.apply(Object.fromEntries(vars.map((v, i) => [v.name, grads[i]!])));
      return { loss: loss * shards[0]!.weight, sums };
    }
    this.publishWeights();
    const answers = shards.slice(1).map((shard, i) => {
      const peer = this.peers[i]!;
      if (peer.failure) return Promise.reject(peer.failure);
      return new Promise<Extract<PeerMessage, { type: 'done' }>>((resolve, reject) => {
        peer.pending = { resolve, reject };
        const { batch: b, transfer } = transferable(shard.batch);
        peer.worker.postMessage({ type: 'step', batch: b }, transfer);
      });
    });
    // Rank 0's own shard, while the peers compute theirs.
    const own = shardGradients(this.opts.replica, shards[0]!.batch);
    let off = 0;
    own.grads.forEach((g, i) => {
      this.grads!.set(g.dataSync() as Float32Array, off);
      off += this.sizes[i]!;
      g.dispose();
    });
    const peers = await Promise.all(answers);
    const results = [own, ...peers];
    const total = new Float32Array(this.total);
    for (let r = 0; r < shards.length; r++) {
      const w = shards[r]!.weight;
      const g = this.grads!.subarray(r * this.total, (r + 1) * this.total);
      if (r === 0) for (let j = 0; j < this.total; j++) total[j] = w * g[j]!;
      else for (let j = 0; j < this.total; j++) total[j] = total[j]! + w * g[j]!;
    }
    const named: tf.NamedTensorMap = {};
    off = 0;
    vars.forEach((v, i) => {
      named[v.name] = tf.tensor(total.subarray(off, off + this.sizes[i]!), v.shape, 'float32');
      off += this.sizes[i]!;
    });
    this.apply(named);
    const sums: Record<string, number> = {};
    let loss = 0;
    results.forEach((r, i) => {
      loss += shards[i]!.weight * r.loss;
      for (const [k, v] of Object.entries(r.sums)) sums[k] = (sums[k] ?? 0) + v;
    });
    return { loss, sums };
  }

  private apply(grads: tf.NamedTensorMap): void {
    this.opts.optimizer.applyGradients(grads);
    Object.values(grads).forEach((g) => g.dispose());
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.peers.map((p) => p.worker.terminate()));
  }
}
