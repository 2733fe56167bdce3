// Deploy and rollback against a real database: approval and permission rules, atomic activation
// under concurrency, previous-model bookkeeping, idempotent clicks, rollback chains, audit.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Approval, AuditLogEntry, Deployment, Model, ModelTestType } from '../../src/db/entities/index.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/domain/index.js';
import { AssayEvents } from '../../src/app/events.js';
import { systemActor } from '../../src/services/audit.js';
import { deployModel, deploymentPreview } from '../../src/services/deployment-service.js';
import { rollbackKit, rollbackPreview } from '../../src/services/rollback-service.js';
import { addEdge, revokeEdge } from '../../src/services/edge-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { seeded } from '../helpers/factories.js';
import { approvedModel, modelInState } from '../helpers/models.js';

let db: TestDatabase;
let cat: Awaited<ReturnType<typeof seeded>>;
const m = () => db.dataSource.manager;
const approvers = new Set(['UBOSS', 'UOTHER']);
const ds = () => db.dataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  cat = await seeded(m());
  await addEdge(m(), 'edge-a', systemActor);
  await addEdge(m(), 'edge-b', systemActor);
  const { edge } = await addEdge(m(), 'edge-gone', systemActor);
  await revokeEdge(m(), edge.name, systemActor);
});
afterAll(async () => db.close());

const active = async (kitId: string, optionUid: string) =>
  (await m().find(ModelTestType, { where: { testTypeId: kitId, aiOptionUid: optionUid, isActive: true } })).map((r) => r.modelId);

/** Each test gets its own label space (lineage) so they do not see each other's models. */
function space(options: string[], kits: string[]) {
  return { optionUids: options.map((o) => cat.option(o).uid), kitIds: kits.map((k) => cat.kit(k).id), name: options.join('_') };
}

/** A kit of its own (no other test's models on it). */
async function freshKit(kitId: string, options: string[]) {
  const [row] = await m().query(`INSERT INTO test_types (kit_id, kit_name) VALUES ($1, $2) RETURNING id`, [kitId, `Kit ${kitId}`]);
  await m().query(`INSERT INTO test_type_ai_options (test_type_id, ai_option_uid) SELECT $1, uid FROM ai_options WHERE name = ANY($2)`, [row.id, options]);
  return { id: row.id as string, kitId };
}

describe('deploy', () => {
  it('refuses a model that is not approved, and changes nothing', async () => {
    const model = await modelInState(ds(), { ...space(['stop_sign'], ['2001']), status: 'pending_approval' });
    await expect(deployModel(ds(), { modelId: model.id, actor: 'UBOSS', approvers })).rejects.toThrow(ConflictError);
    await expect(deployModel(ds(), { modelId: model.id, actor: 'UBOSS', approvers })).rejects.toThrow(/pending_approval: only an approved model can be deployed/);
    expect(await m().countBy(ModelTestType, { modelId: model.id, isActive: true })).toBe(0);
    expect(await m().countBy(Approval, { modelId: model.id, kind: 'deploy' })).toBe(0);
    expect(await m().countBy(Deployment, { modelId: model.id })).toBe(0);
    expect((await m().findOneByOrFail(Model, { id: model.id })).status).toBe('pending_approval');
  });

  it('refuses a non-approver with an audited permission.denied that survives the refusal', async () => {
    const model = await approvedModel(ds(), space(['speed_limit'], ['2001']));
    await expect(deployModel(ds(), { modelId: model.id, actor: 'UNOBODY', approvers })).rejects.toThrow(ForbiddenError);
    const denied = await m().findBy(AuditLogEntry, { action: 'permission.denied', entityId: model.id });
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ actorType: 'slack_user', actorId: 'UNOBODY', details: { attempted: 'deploy' } });
    expect(await m().countBy(ModelTestType, { modelId: model.id, isActive: true })).toBe(0);
  });

  it('activates per kit option, records the previous model, one pending deployment per live edge', async () => {
    const s = space(['red_light', 'green_light'], ['4567', '589']);
    const a = await approvedModel(ds(), s);
    const preview = await deploymentPreview(m(), a.id);
    expect(preview.targets).toEqual(['edge-a', 'edge-b']);
    expect(preview.scope.map((r) => `${r.kitId}:${r.optionName}:${r.currentModelId}`).sort()).toEqual(
      ['4567:green_light:null', '4567:red_light:null', '589:green_light:null', '589:red_light:null'],
    );

    const events: string[] = [];
    const bus = new AssayEvents();
    bus.on('deployment.changed', (e) => void events.push(`${e.edge}:${e.status}`));
    const first = await deployModel(ds(), { modelId: a.id, actor: 'UBOSS', approvers, slack: { channel: 'C1', ts: '1.2' } }, bus);
    expect(first.activated).toHaveLength(4);
    expect(first.deployments.map((d) => [d.target, d.status, d.previousModelId])).toEqual([['edge-a', 'pending', null], ['edge-b', 'pending', null]]);
    expect(events.sort()).toEqual(['edge-a:pending', 'edge-b:pending']);
    expect((await m().findOneByOrFail(Model, { id: a.id })).status).toBe('deployed');
    expect(await m().findBy(Approval, { modelId: a.id, kind: 'deploy' })).toEqual([
      expect.objectContaining({ decision: 'confirmed', actor: 'UBOSS', slackChannel: 'C1', slackTs: '1.2' }),
    ]);

    const b = await approvedModel(ds(), s);
    const second = await deployModel(ds(), { modelId: b.id, actor: 'UOTHER', approvers, targets: ['edge-b'] });
    expect(second.deployments).toHaveLength(1);
    expect(second.deployments[0]).toMatchObject({ target: 'edge-b', previousModelId: a.id });
    expect(second.deployments[0]!.scope).toEqual(expect.arrayContaining([{ testTypeId: cat.kit('4567').id, aiOptionUid: cat.option('red_light').uid, previousModelId: a.id }]));
    expect(second.activated.every((x) => x.previousModelId === a.id)).toBe(true);
    expect(await active(cat.kit('589').id, cat.option('green_light').uid)).toEqual([b.id]);
    expect(await m().countBy(AuditLogEntry, { entityId: b.id, action: 'model.deploy_confirmed' })).toBe(1);
  });

  it('refuses unknown or revoked targets and kit options outside the model', async () => {
    const s = space(['yield'], ['2001']);
    const model = await approvedModel(ds(), s);
    await expect(deployModel(ds(), { modelId: model.id, actor: 'UBOSS', approvers, targets: ['edge-gone'] })).rejects.toThrow(/Unknown or revoked edge server\(s\): edge-gone/);
    await expect(
      deployModel(ds(), { modelId: model.id, actor: 'UBOSS', approvers, scope: [{ testTypeId: cat.kit('4567').id, aiOptionUid: cat.option('red_light').uid }] }),
    ).rejects.toThrow(ValidationError);
    expect(await m().countBy(ModelTestType, { modelId: model.id, isActive: true })).toBe(0);
  });

  it('a repeated click (same interaction key), even simultaneous, acts once and returns the first result', async () => {
    const model = await approvedModel(ds(), space(['pedestrian_crossing'], ['2001']));
    const input = { modelId: model.id, actor: 'UBOSS', approvers, interactionKey: `click-${model.id}` };
    const [x, y] = await Promise.all([deployModel(ds(), input), deployModel(ds(), input)]);
    const z = await deployModel(ds(), input);
    expect([x.repeated, y.repeated].sort()).toEqual([false, true]);
    expect(z.repeated).toBe(true);
    const ids = (r: typeof x) => r.deployments.map((d) => d.id).sort();
    expect(ids(y)).toEqual(ids(x));
    expect(ids(z)).toEqual(ids(x));
    expect(z.activated).toEqual((x.repeated ? y : x).activated);
    expect(await m().countBy(Deployment, { modelId: model.id })).toBe(2);
    expect(await m().countBy(Approval, { modelId: model.id, kind: 'deploy' })).toBe(1);
  });

  it('concurrent deploys of two models to the same kit option leave exactly one active', async () => {
    const s = space(['no_entry'], ['2001']);
    const kit = cat.kit('2001').id;
    const option = cat.option('no_entry').uid;
    for (let round = 0; round < 3; round++) {
      const [a, b] = [await approvedModel(ds(), s), await approvedModel(ds(), s)];
      await Promise.all([a, b].map((x) => deployModel(ds(), { modelId: x.id, actor: 'UBOSS', approvers })));
      const now = await active(kit, option);
      expect(now).toHaveLength(1);
      expect([a.id, b.id]).toContain(now[0]);
      const winner = await m().findOneByOrFail(ModelTestType, { modelId: now[0]!, testTypeId: kit, aiOptionUid: option });
      const loser = now[0] === a.id ? b.id : a.id;
      expect(winner.previousModelId).toBe(loser); // the later one replaced the earlier one
    }
  });
});

describe('rollback', () => {
  it('returns each kit option to the previous model, deprecates the bad one, redeploys the good one', async () => {
    const s = space(['red_light', 'green_light', 'yellow_light'], ['678']);
    const kit = cat.kit('678');
    const [a, b] = [await approvedModel(ds(), s), await approvedModel(ds(), s)];
    await deployModel(ds(), { modelId: a.id, actor: 'UBOSS', approvers });
    await deployModel(ds(), { modelId: b.id, actor: 'UBOSS', approvers });

    await expect(rollbackKit(ds(), { kit: kit.kitId, from: [b.id], actor: 'UNOBODY', approvers })).rejects.toThrow(ForbiddenError);
    expect(await m().countBy(AuditLogEntry, { action: 'permission.denied', entityId: kit.kitId })).toBe(1);

    const preview = await rollbackPreview(m(), kit.kitId);
    expect(preview.from).toEqual([b.id]);
    expect(preview.steps.map((x) => [x.optionKey, x.from.id, x.to?.id])).toEqual(
      expect.arrayContaining([['red_light', b.id, a.id], ['green_light', b.id, a.id], ['yellow_light', b.id, a.id]]),
    );

    const rolled: string[] = [];
    const bus = new AssayEvents();
    bus.on('model.rolled_back', (e) => void rolled.push(`${e.modelId}>${e.restored.map((r) => r.to).join(',')}:${e.deprecated}`));
    const r = await rollbackKit(ds(), { kit: kit.kitId, from: preview.from, actor: 'UOTHER', approvers, interactionKey: 'rb-1' }, bus);
    expect(r.rolledBackModelIds).toEqual([b.id]);
    expect(r.deprecatedModelIds).toEqual([b.id]);
    expect(r.restored).toHaveLength(3); // red, green, yellow; 678's proper_lighting is outside the label space
    expect(r.restored.every((x) => x.from === b.id && x.to === a.id)).toBe(true);
    expect(rolled).toEqual([`${b.id}>${a.id},${a.id},${a.id}:true`]);
    for (const o of ['red_light', 'green_light', 'yellow_light']) expect(await active(kit.id, cat.option(o).uid)).toEqual([a.id]);
    expect((await m().findOneByOrFail(Model, { id: b.id })).status).toBe('deprecated');
    expect((await m().findBy(Deployment, { modelId: b.id })).map((d) => d.status)).toEqual(['rolled_back', 'rolled_back']);
    expect(r.deployments.map((d) => [d.modelId, d.target, d.status, d.previousModelId])).toEqual([
      [a.id, 'edge-a', 'pending', b.id],
      [a.id, 'edge-b', 'pending', b.id],
    ]);
    expect(await m().countBy(Approval, { kind: 'rollback', modelId: b.id })).toBe(1);

    // The same click again: nothing more happens, the first answer comes back.
    const again = await rollbackKit(ds(), { kit: kit.kitId, from: preview.from, actor: 'UOTHER', approvers, interactionKey: 'rb-1' });
    expect(again.repeated).toBe(true);
    expect(again.restored).toEqual(r.restored);
    expect(again.deprecatedModelIds).toEqual([b.id]);
    expect(await active(kit.id, cat.option('red_light').uid)).toEqual([a.id]);

    // The same confirmation through another click: stale (the kit no longer runs b), refused.
    await expect(rollbackKit(ds(), { kit: kit.kitId, from: [b.id], actor: 'UOTHER', approvers, interactionKey: 'rb-2' })).rejects.toThrow(/changed since this rollback was confirmed/);
    // a is the kit's first model: nothing earlier to return to, so nothing changes.
    const before = await m().count(ModelTestType);
    await expect(rollbackPreview(m(), kit.id)).rejects.toThrow(/with no earlier model to return to: nothing was rolled back/);
    await expect(rollbackKit(ds(), { kit: kit.id, from: [a.id], actor: 'UOTHER', approvers })).rejects.toThrow(ConflictError);
    for (const o of ['red_light', 'green_light', 'yellow_light']) expect(await active(kit.id, cat.option(o).uid)).toEqual([a.id]);
    expect(await m().count(ModelTestType)).toBe(before);
    expect(await m().countBy(Approval, { kind: 'rollback', modelId: a.id })).toBe(0);
    expect((await m().findOneByOrFail(Model, { id: a.id })).status).toBe('deployed');
    expect(await m().countBy(AuditLogEntry, { action: 'rollback.refused', entityId: kit.id })).toBe(1);
  });

  it('ten simultaneous confirmations of one rollback: exactly one acts, the others are refused', async () => {
    const kit = await freshKit('2101', ['pedestrian_crossing', 'yield']);
    const s = { optionUids: [cat.option('pedestrian_crossing').uid, cat.option('yield').uid], kitIds: [kit.id], name: 'storm' };
    const [a, b, c] = [await approvedModel(ds(), s), await approvedModel(ds(), s), await approvedModel(ds(), s)];
    for (const x of [a, b, c]) await deployModel(ds(), { modelId: x.id, actor: 'UBOSS', approvers });
    const preview = await rollbackPreview(m(), kit.kitId);
    expect(preview.from).toEqual([c.id]);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => rollbackKit(ds(), { kit: kit.kitId, from: preview.from, actor: 'UBOSS', approvers, interactionKey: `rb-storm-${i}` })),
    );
    const ok = results.filter((x) => x.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    for (const x of results.filter((y) => y.status === 'rejected')) expect(String((x as PromiseRejectedResult).reason)).toMatch(/changed since this rollback was confirmed/);
    // One step back (c → b), not three.
    for (const o of ['pedestrian_crossing', 'yield']) expect(await active(kit.id, cat.option(o).uid)).toEqual([b.id]);
    expect(await m().countBy(Approval, { kind: 'rollback', modelId: c.id })).toBe(1);
    expect(await m().countBy(Approval, { kind: 'rollback', modelId: b.id })).toBe(0);
    expect((await m().findOneByOrFail(Model, { id: b.id })).status).toBe('deployed');
  });

  it('a kit rollback leaves the model running elsewhere: not deprecated there', async () => {
    const s = space(['speed_limit', 'stop_sign'], ['2001']);
    const panel = cat.kit('2001');
    // A second kit with the same options, made through the catalog tables' seed shape.
    await m().query(`INSERT INTO test_types (kit_id, kit_name) VALUES ('2002', 'Road sign panel B')`);
    const [{ id: kit2 }] = await m().query(`SELECT id FROM test_types WHERE kit_id = '2002'`);
    await m().query(`INSERT INTO test_type_ai_options (test_type_id, ai_option_uid) SELECT $1, uid FROM ai_options WHERE name IN ('speed_limit','stop_sign')`, [kit2]);
    const a = await approvedModel(ds(), { ...s, kitIds: [panel.id, kit2] });
    const b = await approvedModel(ds(), { ...s, kitIds: [panel.id, kit2] });
    await deployModel(ds(), { modelId: a.id, actor: 'UBOSS', approvers });
    const deployedB = await deployModel(ds(), { modelId: b.id, actor: 'UBOSS', approvers });
    const r2002 = await rollbackKit(ds(), { kit: '2002', from: [b.id], actor: 'UBOSS', approvers });
    // b still runs on 2001: the answer says so and does not call it deprecated.
    expect(r2002.deprecatedModelIds).toEqual([]);
    expect(r2002.stillActive).toEqual({ [b.id]: 2 });
    expect(await active(kit2, cat.option('stop_sign').uid)).toEqual([a.id]);
    expect(await active(panel.id, cat.option('stop_sign').uid)).toEqual([b.id]);
    expect((await m().findOneByOrFail(Model, { id: b.id })).status).toBe('deployed');
    // b's deployments still serve kit 2001: they stay open.
    expect((await m().findBy(Deployment, { id: deployedB.deployments[0]!.id }))[0]!.status).toBe('pending');

  });

  it('never restores a model that was itself rolled back: goes further back', async () => {
    const s = space(['green_light'], ['589']);
    const kit = cat.kit('589');
    const opt = cat.option('green_light').uid;
    // Other tests deployed green_light models on 589 already; start from whatever is active.
    const base = await approvedModel(ds(), s);
    await deployModel(ds(), { modelId: base.id, actor: 'UBOSS', approvers });
    const bad = await approvedModel(ds(), s);
    await deployModel(ds(), { modelId: bad.id, actor: 'UBOSS', approvers });
    const next = await approvedModel(ds(), s);
    await deployModel(ds(), { modelId: next.id, actor: 'UBOSS', approvers }); // previous: bad
    // Retire `bad` (as if rolled back elsewhere): it must be skipped.
    await db.dataSource.transaction(async (tx) => {
      const { transition } = await import('../../src/services/transitions.js');
      await transition(tx, 'model', bad.id, 'deprecated', systemActor);
    });
    const r = await rollbackKit(ds(), { kit: kit.id, from: (await rollbackPreview(m(), kit.id)).from, actor: 'UBOSS', approvers });
    expect(r.restored.find((x) => x.aiOptionUid === opt)).toMatchObject({ from: next.id, to: base.id });
    expect(await active(kit.id, opt)).toEqual([base.id]);
  });
});
