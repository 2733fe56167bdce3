// Trainings a killed worker left in 'validating' or 'training'. Their Agenda job normally still
// exists with an expired lock: Agenda hands it to a live worker, and the handler records the
// resumption (training_logs + audit 'training.resumed'). This scan covers the rest — a training
// whose job is gone or ended — by enqueuing its job again, visibly.
import type { AppContext } from '../app/context.js';
import { Dataset, ModelTraining } from '../db/entities/index.js';
import { appendTrainingLog } from '../services/training-run-service.js';
import { writeAudit, systemActor } from '../services/audit.js';
import { JOBS } from './names.js';

const LIVE_STATES = new Set(['queued', 'scheduled', 'running', 'repeating']);

export async function recoverStuckTrainings(ctx: AppContext): Promise<string[]> {
  const ds = ctx.db.dataSource;
  const stuck = await ds.getRepository(ModelTraining).createQueryBuilder('t').where(`t.status = 'validating' OR (t.status = 'training' AND t.trainer = 'tfjs')`).getMany();
  const requeued: string[] = [];
  for (const t of stuck) {
    const { jobs } = await ctx.agenda.queryJobs({ names: [JOBS.datasetValidate, JOBS.modelTrain], data: { trainingUid: t.uid } });
    if (jobs.some((j) => LIVE_STATES.has(j.state))) continue;
    const reason = `worker stopped during ${t.status}; its job was lost; re-queued`;
    await ds.transaction(async (tx) => {
      await appendTrainingLog(tx, t.uid, reason);
      await writeAudit(tx, systemActor, { action: 'training.requeued', entityType: 'training', entityId: t.uid, details: { status: t.status, reason } });
    });
    if (t.status === 'validating') {
      const dataset = await ds.manager.findOneByOrFail(Dataset, { id: t.datasetId! });
      await ctx.queue.now(JOBS.datasetValidate, { datasetId: dataset.id, trainingUid: t.uid, ...(dataset.source === 'upload' ? { upload: { url: dataset.sourceUri } } : {}) });
    } else {
      await ctx.queue.now(JOBS.modelTrain, { trainingUid: t.uid });
    }
    requeued.push(t.uid);
  }
  if (requeued.length) ctx.logger.warn({ trainings: requeued }, 're-queued trainings left behind by a stopped worker');
  return requeued;
}
