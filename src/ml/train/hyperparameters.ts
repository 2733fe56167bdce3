/** The in-process classifier trainer's hyperparameters (zod only: importing this loads no TF.js). */
import { z } from 'zod';
import { hyperparameterFields } from '../../domain/hyperparameters.js';

/** The domain's limits (src/domain/hyperparameters.ts) plus the classifier's own layer widths. */
export const classifierHyperparametersSchema = z.object({
  ...hyperparameterFields,
  convFilters: z.array(z.number().int().min(1).max(512)).min(1).max(6).optional(),
});
export type Hyperparameters = z.infer<typeof classifierHyperparametersSchema>;
