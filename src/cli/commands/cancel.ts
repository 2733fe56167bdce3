// `assay cancel <training uid>`: asks a training to stop. Queued/validating ones are cancelled at
// once; a running one stops at its next batch (the worker polls the flag).
import { z } from 'zod';
import { runAdmin } from './admin.js';
import type { CliCommand } from './types.js';

export const cancelCommand: CliCommand = {
  name: 'cancel',
  summary: 'cancel a training (honoured between batches)',
  usage: 'assay cancel <training-uid>',
  async run(args) {
    const uid = z.string().uuid().safeParse(args[0]);
    if (!uid.success) {
      process.stderr.write('Usage: assay cancel <training-uid> (a training uid, as shown by /assay status)\n');
      return 2;
    }
    return runAdmin({ op: 'cancel', trainingUid: uid.data });
  },
};
