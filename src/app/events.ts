// In-process domain events. Jobs and services emit them after their transaction commits;
// surfaces (Slack messages, ops notices) listen. Listeners must not throw into emitters.
import { EventEmitter } from 'node:events';

export interface AssayEventMap {
  'dataset.validated': { datasetId: string; trainingUid: string | null; valid: boolean; report: Record<string, unknown> };
  'training.progress': { trainingUid: string; epoch: number; totalEpochs: number; loss?: number; accuracy?: number; valLoss?: number; valAccuracy?: number; etaSeconds?: number };
  'training.finished': { trainingUid: string; status: 'trained' | 'failed' | 'cancelled'; modelId: string | null; error?: string | null };
  'evaluation.completed': { modelId: string; evaluationUid: string; status: 'completed' | 'failed'; metrics: Record<string, unknown> | null; error?: string | null };
  'model.decided': { modelId: string; decision: 'approved' | 'rejected'; actor: string; reason?: string | null };
  'deployment.changed': { deploymentId: string; modelId: string; status: string; edge: string | null; error?: string | null };
  /** `deprecated`: the model runs nowhere now; else `stillActive` kit options still run it. */
  'model.rolled_back': { modelId: string; actor: string; restored: { testTypeId: string; aiOptionUid: string; to: string }[]; deprecated: boolean; stillActive: number };
}

export type AssayEventName = keyof AssayEventMap;

export class AssayEvents {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (err: unknown, event: string) => void = () => {}) {
    this.emitter.setMaxListeners(50);
  }

  on<E extends AssayEventName>(event: E, listener: (payload: AssayEventMap[E]) => void | Promise<void>): void {
    this.emitter.on(event, (payload: AssayEventMap[E]) => {
      try {
        Promise.resolve(listener(payload)).catch((err) => this.onListenerError(err, event));
      } catch (err) {
        this.onListenerError(err, event);
      }
    });
  }

  emit<E extends AssayEventName>(event: E, payload: AssayEventMap[E]): void {
    this.emitter.emit(event, payload);
  }
}
