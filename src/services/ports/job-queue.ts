// The job queue as the core sees it (a port): each job's name and the zod schema of its data, so
// producers (services, Slack, CLI, webhooks) and handlers (jobs/) cannot drift apart. Handlers
// parse with these schemas before doing anything. jobs/job-system.ts implements it on Agenda.
import { z } from 'zod';

export const JOBS = {
  datasetValidate: 'dataset.validate',
  modelTrain: 'model.train',
  modelEvaluate: 'model.evaluate',
  salesforceSync: 'salesforce.sync',
  salesforceReconcile: 'salesforce.reconcile',
  hyperparametersGc: 'hyperparameters.gc',
  wizardExpire: 'wizard.expire',
  edgeStaleCheck: 'edge.stale-check',
  trainerPoll: 'trainer.poll',
  trainingRecover: 'training.recover',
  slackDeliveriesGc: 'slack.deliveries-gc',
} as const;

export type JobName = (typeof JOBS)[keyof typeof JOBS];

export interface JobQueue {
  /** Enqueue a job to run as soon as a worker is free. */
  now<T extends object>(name: JobName, data: T): Promise<void>;
}

export const datasetValidateData = z.object({
  datasetId: z.string().uuid(),
  trainingUid: z.string().uuid(),
  /** A Slack file upload: downloaded with the bot token from config (never passed in job data). */
  upload: z.object({ url: z.string().url() }).strict().optional(),
});
export type DatasetValidateData = z.infer<typeof datasetValidateData>;

export const modelTrainData = z.object({ trainingUid: z.string().uuid() });
export type ModelTrainData = z.infer<typeof modelTrainData>;

export const modelEvaluateData = z.object({ modelId: z.string().uuid() });
export type ModelEvaluateData = z.infer<typeof modelEvaluateData>;
