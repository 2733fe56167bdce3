// Promotion history: which model each kit option ran at any moment, who deployed and who
// approved it — across deploys and rollbacks (which overwrite model_test_types in place).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../src/domain/index.js';
import { deployModel } from '../../src/services/deployment-service.js';
import { rollbackKit } from '../../src/services/rollback-service.js';
import { formatPromotionHistory, promotionHistory } from '../../src/services/history-service.js';
import { parseHistoryArgs } from '../../src/cli/commands/history.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { seeded } from '../helpers/factories.js';
import { approvedModel } from '../helpers/models.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.close());

const pause = () => new Promise((r) => setTimeout(r, 30));
async function moment(): Promise<Date> {
  await pause();
  const t = new Date();
  await pause();
  return t;
}

describe('promotion history', () => {
  it('answers for any moment: active model, who deployed it, who approved it', async () => {
    const ds = db.dataSource;
    const cat = await seeded(ds.manager);
    const space = { optionUids: [cat.option('red_light').uid, cat.option('green_light').uid], kitIds: [cat.kit('4567').id] };
    const approvers = new Set(['UDEPLOYER', 'UROLLER', 'cli:ops']);
    const a = await approvedModel(ds, { ...space, approvedBy: 'UAPPROVER1' });
    const b = await approvedModel(ds, { ...space, approvedBy: 'UAPPROVER2' });

    const before = await moment();
    await deployModel(ds, { modelId: a.id, actor: 'UDEPLOYER', approvers });
    const t1 = await moment();
    await deployModel(ds, { modelId: b.id, actor: 'cli:ops', approvers });
    const t2 = await moment();
    await rollbackKit(ds, { kit: '4567', from: [b.id], actor: 'UROLLER', approvers });
    const t3 = await moment();

    const at = async (t: Date, option?: string) => promotionHistory(ds.manager, '4567', t, option);
    const red = (h: Awaited<ReturnType<typeof at>>) => h.options.find((o) => o.optionName === 'red_light')!;

    expect(red(await at(before)).activeAt).toBeNull();
    expect(red(await at(t1)).activeAt).toMatchObject({ modelId: a.id, deployedBy: 'UDEPLOYER', approvedBy: 'UAPPROVER1' });
    expect(red(await at(t2)).activeAt).toMatchObject({ modelId: b.id, deployedBy: 'ops', approvedBy: 'UAPPROVER2' });
    const after = red(await at(t3));
    // Back to A after the rollback, activated by the person who rolled back.
    expect(after.activeAt).toMatchObject({ modelId: a.id, deployedBy: 'UROLLER', approvedBy: 'UAPPROVER1' });
    expect(after.timeline.map((t) => [t.modelId, t.deployedBy, t.to === null])).toEqual([
      [a.id, 'UDEPLOYER', false],
      [b.id, 'ops', false],
      [a.id, 'UROLLER', true],
    ]);
    // Asking about the past still answers the past, even though model_test_types was overwritten.
    expect(red(await at(t1)).timeline).toHaveLength(1);

    const one = await at(t3, 'green_light');
    expect(one.options.map((o) => o.optionName)).toEqual(['green_light']);
    await expect(at(t3, 'stop_sign')).rejects.toThrow(/Option of kit 4567 stop_sign was not found/);
    await expect(promotionHistory(ds.manager, 'nope', t3)).rejects.toThrow(/Kit nope was not found/);
    // Shaped like a uuid but not one: "not found", not PostgreSQL's invalid-uuid error.
    const dashes = '-'.repeat(36);
    await expect(promotionHistory(ds.manager, dashes, t3)).rejects.toThrow(`Kit ${dashes} was not found`);
    await expect(promotionHistory(ds.manager, '4567', new Date('garbage'))).rejects.toThrow(ValidationError);

    const text = formatPromotionHistory(await at(t2));
    expect(text).toContain('Kit 4567 "PR urine"');
    expect(text).toMatch(new RegExp(`red_light\\s+${b.modelName}\\s+v${b.modelVersion}\\s+classifier\\s+\\S+\\s+ops\\s+UAPPROVER2`));
    expect(red(await at(t2)).activeAt?.modelTask).toBe('classify');
    expect(text).toContain('Promotion history:');
  });

  it('parses the CLI arguments with clear errors', () => {
    expect(parseHistoryArgs(['4567', '--at', '2026-01-31T12:00:00Z'])).toEqual({ kit: '4567', at: new Date('2026-01-31T12:00:00Z'), option: undefined });
    expect(parseHistoryArgs(['--option=red_light', '589']).option).toBe('red_light');
    expect(() => parseHistoryArgs(['4567', '--at', 'yesterday-ish'])).toThrow(/is not a time/);
    expect(() => parseHistoryArgs([])).toThrow(/usage: assay history/);
    expect(() => parseHistoryArgs(['4567', '589'])).toThrow(/unexpected argument "589"/);
  });
});
