// Agenda job names: one place, so producers and handlers cannot drift apart.
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
