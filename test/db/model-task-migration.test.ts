// The ModelTask migration on a database that already holds models: rows written before it (with
// the old `kind` column) get a task and, for classifiers, the runtime descriptor their export
// implies; down restores `kind`. Real migrations on PGlite or PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate } from '../../src/db/database.js';
import { classifyRuntime } from '../../src/domain/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { seeded } from '../helpers/factories.js';
import { findOrCreateLineage } from '../../src/services/lineage-service.js';

let db: TestDatabase;
const q = (sql: string, params: unknown[] = []) => db.dataSource.manager.query(sql, params) as Promise<Record<string, any>[]>;
const columns = async () => (await q(`SELECT column_name FROM information_schema.columns WHERE table_name = 'models'`)).map((r) => r.column_name as string);

/** Undo migrations until ModelTask is no longer applied (later migrations go first). */
async function undoModelTask() {
  for (;;) {
    const applied = (await q(`SELECT name FROM schema_migrations ORDER BY id DESC`)).map((r) => r.name as string);
    if (!applied.includes('ModelTask1732300000800')) return;
    await db.dataSource.undoLastMigration({ transaction: 'all' });
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.close());

describe('migration ModelTask1732300000800', () => {
  it('backfills task and the classifier runtime, and down restores kind', async () => {
    const { option } = await seeded(db.dataSource.manager);
    const lineage = await findOrCreateLineage(db.dataSource.manager, [option('red_light').uid], 'legacy');
    await undoModelTask();
    expect(await columns()).toContain('kind');
    expect(await columns()).not.toContain('task');
    const insert = (v: number, kind: string, labels: string[], inputShape: number[] | null) =>
      q(`INSERT INTO models (lineage_id, model_version, model_name, kind, labels, input_shape) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb) RETURNING id`,
        [lineage.id, v, `legacy_v${v}`, kind, JSON.stringify(labels), inputShape ? JSON.stringify(inputShape) : null]);
    const [cls] = await insert(1, 'classifier', ['negative', 'positive'], [1, 48, 48, 3]);
    const [noShape] = await insert(2, 'classifier', ['a', 'b', 'c'], null);
    const [det] = await insert(3, 'detector', ['red_light'], null);

    await migrate(db);
    expect(await columns()).not.toContain('kind');
    const rows = new Map((await q(`SELECT id, task, runtime FROM models`)).map((r) => [r.id as string, r]));
    expect(rows.get(cls!.id)).toMatchObject({ task: 'classify', runtime: classifyRuntime({ labels: ['negative', 'positive'], inputShape: [1, 48, 48, 3] }) });
    expect(rows.get(cls!.id)!.runtime.inputSize).toEqual({ height: 48, width: 48 });
    expect(rows.get(noShape!.id)).toMatchObject({ task: 'classify', runtime: classifyRuntime({ labels: ['a', 'b', 'c'], inputShape: null }) });
    // No output shape on record for a legacy detector: task known, runtime left for a re-import.
    expect(rows.get(det!.id)).toMatchObject({ task: 'detect', runtime: null });

    await undoModelTask();
    const kinds = new Map((await q(`SELECT id, kind FROM models`)).map((r) => [r.id as string, r.kind as string]));
    expect([kinds.get(cls!.id), kinds.get(det!.id)]).toEqual(['classifier', 'detector']);
    await migrate(db);
    expect(await columns()).toEqual(expect.arrayContaining(['task', 'runtime']));
  });
});
