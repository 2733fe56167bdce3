// `assay cancel <training uid>`: asks a training to stop. Queued/validating ones are cancelled at
// once; a running one stops at its next batch (the worker polls the flag).
import { z } from 'zod';
import { DomainError } from '../../domain/index.js';
import { requestCancel } from '../../services/training-service.js';
import { withDatabase } from './database.js';
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
    try {
      const t = await withDatabase((db) => requestCancel(db.dataSource.manager, uid.data, { type: 'cli', id: process.env.USER ?? null }, { approvers: new Set() }));
      process.stdout.write(t.status === 'cancelled' ? `Training ${uid.data} cancelled.\n` : `Cancel requested: training ${uid.data} stops after its current batch.\n`);
      return 0;
    } catch (e) {
      if (e instanceof DomainError) {
        process.stderr.write(`${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
