/** The in-process trainer's hyperparameters (zod only: importing this loads no TF.js). */
import { z } from 'zod';

export const hyperparametersSchema = z.object({
  epochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(4096),
  learningRate: z.number().positive().max(1),
  imageSize: z.number().int().min(8).max(512),
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  convFilters: z.array(z.number().int().min(1).max(512)).min(1).max(6).optional(),
});
export type Hyperparameters = z.infer<typeof hyperparametersSchema>;
