// Issue 12 item 13: the first start of a real team's Assay loads the AI options only; kits come
// from Salesforce. The demo kits arrive only with the demo (or `assay seed --demo-kits`).
import { describe, expect, it } from '@jest/globals';
import { startTestAssay } from '../helpers/server.js';

const counts = async (assay: Awaited<ReturnType<typeof startTestAssay>>) =>
  (await assay.ctx.db.dataSource.query(
    `SELECT (SELECT count(*)::int FROM ai_options) AS options, (SELECT count(*)::int FROM test_types) AS kits,
            (SELECT count(*)::int FROM test_type_ai_options) AS links`,
  ))[0];

describe('first start', () => {
  it('seeds the AI options into an empty database, and no kit', async () => {
    const assay = await startTestAssay({}, { worker: false, seedIfEmpty: true });
    try {
      expect(await counts(assay)).toEqual({ options: 9, kits: 0, links: 0 });
      const names = (await assay.ctx.db.dataSource.query(`SELECT kit_name FROM test_types`)).map((r: { kit_name: string }) => r.kit_name);
      expect(names).not.toContain('PR urine');
    } finally {
      await assay.stop();
    }
  });

  it('the demo asks for the demo kits too', async () => {
    const assay = await startTestAssay({}, { worker: false, seedIfEmpty: true, seedDemoKits: true });
    try {
      expect(await counts(assay)).toEqual({ options: 9, kits: 6, links: 21 });
    } finally {
      await assay.stop();
    }
  });
});
