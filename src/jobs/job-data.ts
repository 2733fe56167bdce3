// The data of each pipeline job, shared by producers (Slack, CLI, webhooks) and handlers so
// they cannot drift apart. Handlers parse with these schemas before doing anything.
import { z } from 'zod';

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
