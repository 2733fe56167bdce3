// Rolling a kit back to the models its options ran before. A rollback names
// the models it rolls back from — what the person saw in the confirmation — and happens in one
// transaction under the kit locks: a stale or repeated confirmation is refused and changes
// nothing, as is a rollback with no earlier model to return to. Events go out after the commit.
import { In, type DataSource, type EntityManager } from 'typeorm';
import { Deployment, Model } from '../db/entities/index.js';
import type { AssayEvents } from '../app/events.js';
import { ConflictError, kitOptionKey, planRollback, type ActiveAssignment, type RollbackCandidate, type RollbackStep } from '../domain/index.js';
import { writeAudit } from './audit.js';
import { getKit } from './catalog-service.js';
import {
  actorOf,
  announce,
  createDeployments,
  DEPLOYABLE,
  insertConfirmation,
  liveEdges,
  loadDeployments,
  lockKits,
  once,
  OPEN_DEPLOYMENT,
  requireApprover,
  saveResult,
} from './deployment-service.js';
import { flagSourcesOf, transition } from './transitions.js';

export interface RollbackInput {
  /** Kit uuid or business kit_id. */
  kit: string;
  /** The models the kit runs that this rollback returns from, as its confirmation listed them. */
  from: readonly string[];
  actor: string;
  approvers: ReadonlySet<string>;
  interactionKey?: string;
}

export interface RollbackResult {
  kit: { id: string; kitId: string; kitName: string } | null;
  rolledBackModelIds: string[];
  restored: RollbackStep[];
  /** Kit options of the kit with no earlier model: left on their model. */
  unchanged: number;
  /** Rolled-back models that run nowhere now, so were deprecated. */
  deprecatedModelIds: string[];
  /** Per rolled-back model, the kit options (anywhere) it still runs on. */
  stillActive: Record<string, number>;
  modelNames: Record<string, string>;
  /** Deployments created for the restored models (one per edge). */
  deployments: Deployment[];
  repeated: boolean;
}

export interface RollbackPreview {
  kit: { id: string; kitId: string; kitName: string };
  /** Every active kit option: its model and what a rollback returns it to (null: stays). */
  steps: { testTypeId: string; aiOptionUid: string; optionName: string; optionKey: string; from: { id: string; name: string }; to: { id: string; name: string } | null }[];
  /** The models the rollback returns from (what the confirmation carries). */
  from: string[];
}

type Outcome = Omit<RollbackResult, 'repeated' | 'deployments'> & { deployments: Deployment[]; changed: Deployment[] };

// ---- reading -------------------------------------------------------------------------------

async function activeRows(tx: EntityManager, where: string, params: unknown[]): Promise<ActiveAssignment[]> {
  const rows: { test_type_id: string; ai_option_uid: string; model_id: string; previous_model_id: string | null }[] = await tx.query(
    `SELECT test_type_id, ai_option_uid, model_id, previous_model_id FROM model_test_types WHERE is_active AND ${where} ORDER BY model_id, test_type_id, ai_option_uid`,
    params,
  );
  return rows.map((r) => ({ testTypeId: r.test_type_id, aiOptionUid: r.ai_option_uid, modelId: r.model_id, previousModelId: r.previous_model_id }));
}

/**
 * The model a kit option returns to: its recorded previous one, skipping models that were
 * themselves rolled back or otherwise retired since (a bad model is never restored).
 */
async function restorable(tx: EntityManager, row: ActiveAssignment): Promise<string | null> {
  const seen = new Set<string>([row.modelId]);
  let candidate = row.previousModelId;
  while (candidate && !seen.has(candidate)) {
    seen.add(candidate);
    const m = await tx.findOne(Model, { where: { id: candidate } });
    if (m && DEPLOYABLE.has(m.status)) return candidate;
    const prior: { previous_model_id: string | null }[] = await tx.query(
      `SELECT previous_model_id FROM model_test_types WHERE model_id = $1 AND test_type_id = $2 AND ai_option_uid = $3`,
      [candidate, row.testTypeId, row.aiOptionUid],
    );
    candidate = prior[0]?.previous_model_id ?? null;
  }
  return null;
}

async function candidates(tx: EntityManager, rows: ActiveAssignment[]): Promise<RollbackCandidate[]> {
  const out: RollbackCandidate[] = [];
  for (const row of rows) out.push({ ...row, returnTo: await restorable(tx, row) });
  return out;
}

async function namesOf(tx: EntityManager, ids: Iterable<string>): Promise<Record<string, string>> {
  const list = [...new Set(ids)];
  if (list.length === 0) return {};
  const models = await tx.find(Model, { where: { id: In(list) } });
  return Object.fromEntries(models.map((m) => [m.id, m.modelName]));
}

const listNames = (ids: readonly string[], names: Record<string, string>) => (ids.length ? ids.map((id) => names[id] ?? id).join(', ') : 'no model');

/** Turns a refused plan into the error people read; the kit options stay as they are. */
async function refuse(tx: EntityManager, what: string, plan: Exclude<ReturnType<typeof planRollback>, { ok: true }>): Promise<never> {
  if (plan.reason === 'nothing_active') throw new ConflictError(`${what} has no active model to roll back.`);
  const names = await namesOf(tx, [...plan.running, ...(plan.reason === 'stale' ? plan.expected : [])]);
  if (plan.reason === 'no_earlier_model') {
    throw new ConflictError(`${what} runs ${listNames(plan.running, names)}, with no earlier model to return to: nothing was rolled back.`);
  }
  throw new ConflictError(
    `${what} changed since this rollback was confirmed (it was to roll back ${listNames(plan.expected, names)}; it now runs ${listNames(plan.running, names)}): nothing was rolled back. Ask for the rollback again to see what it would do now.`,
  );
}

export async function rollbackPreview(manager: EntityManager, kitRef: string): Promise<RollbackPreview> {
  const kit = await getKit(manager, kitRef);
  const what = `Kit ${kit.kitId} (${kit.kitName})`;
  const found = await candidates(manager, await activeRows(manager, `test_type_id = $1`, [kit.id]));
  const plan = planRollback(found);
  if (!plan.ok) return refuse(manager, what, plan);
  const names = await namesOf(manager, found.flatMap((c) => [c.modelId, ...(c.returnTo ? [c.returnTo] : [])]));
  const options: { uid: string; name: string; description: string | null }[] = await manager.query(`SELECT uid, name, description FROM ai_options WHERE uid = ANY($1::uuid[])`, [
    found.map((c) => c.aiOptionUid),
  ]);
  const option = new Map(options.map((o) => [o.uid, o]));
  return {
    kit: { id: kit.id, kitId: kit.kitId, kitName: kit.kitName },
    steps: found
      .map((c) => ({
        testTypeId: c.testTypeId,
        aiOptionUid: c.aiOptionUid,
        optionName: option.get(c.aiOptionUid)?.description || option.get(c.aiOptionUid)?.name || c.aiOptionUid,
        optionKey: option.get(c.aiOptionUid)?.name ?? c.aiOptionUid,
        from: { id: c.modelId, name: names[c.modelId] ?? c.modelId },
        to: c.returnTo ? { id: c.returnTo, name: names[c.returnTo] ?? c.returnTo } : null,
      }))
      .sort((a, b) => a.optionName.localeCompare(b.optionName)),
    from: plan.from,
  };
}

// ---- acting --------------------------------------------------------------------------------

export async function rollbackKit(dataSource: DataSource, input: RollbackInput, events?: AssayEvents): Promise<RollbackResult> {
  await requireApprover(dataSource, input.actor, 'rollback', input.approvers, { type: 'kit', id: input.kit });
  return rollbackOnce(dataSource, input, events, { type: 'kit', id: input.kit }, async (tx) => {
    const kit = await getKit(tx, input.kit);
    await lockKits(tx, [kit.id]);
    const found = await candidates(tx, await activeRows(tx, `test_type_id = $1`, [kit.id]));
    const plan = planRollback(found, input.from);
    if (!plan.ok) return refuse(tx, `Kit ${kit.kitId} (${kit.kitName})`, plan);
    return { plan, kit: { id: kit.id, kitId: kit.kitId, kitName: kit.kitName }, subject: { type: 'kit', id: kit.id } };
  });
}

type Planned = { plan: Extract<ReturnType<typeof planRollback>, { ok: true }>; kit: RollbackResult['kit']; subject: { type: string; id: string } };

async function rollbackOnce(
  dataSource: DataSource,
  input: { actor: string; interactionKey?: string },
  events: AssayEvents | undefined,
  entity: { type: string; id: string },
  select: (tx: EntityManager) => Promise<Planned>,
): Promise<RollbackResult> {
  let value: Outcome;
  let repeated: boolean;
  try {
    ({ value, repeated } = await once(
      dataSource,
      input.interactionKey,
      'rollback',
      () => dataSource.transaction(async (tx) => rollbackInTransaction(tx, await select(tx), input)),
      async ({ deploymentIds, ...stored }) => ({ ...(stored as unknown as Omit<Outcome, 'deployments' | 'changed'>), deployments: await loadDeployments(dataSource.manager, deploymentIds), changed: [] }),
    ));
  } catch (e) {
    // A refused rollback is kept in audit_log (who tried, and why nothing happened).
    if (e instanceof ConflictError) {
      await writeAudit(dataSource.manager, actorOf(input.actor), { action: 'rollback.refused', entityType: entity.type, entityId: entity.id, details: { reason: e.message, interactionKey: input.interactionKey ?? null } });
    }
    throw e;
  }
  if (!repeated) {
    announce(events, [...value.changed, ...value.deployments]);
    for (const modelId of value.rolledBackModelIds) {
      events?.emit('model.rolled_back', {
        modelId,
        actor: input.actor,
        restored: value.restored.filter((r) => r.from === modelId).map((r) => ({ testTypeId: r.testTypeId, aiOptionUid: r.aiOptionUid, to: r.to })),
        deprecated: value.deprecatedModelIds.includes(modelId),
        stillActive: value.stillActive[modelId] ?? 0,
      });
    }
  }
  const { changed: _changed, ...result } = value;
  return { ...result, repeated };
}

async function rollbackInTransaction(tx: EntityManager, planned: Planned, input: { actor: string; interactionKey?: string }): Promise<Outcome> {
  const { plan, subject } = planned;
  const actor = actorOf(input.actor);
  const rolledBackModelIds = plan.from;
  // Confirmation rows first (the keyed one blocks a concurrent duplicate before any change).
  const approvalIds: string[] = [];
  for (const [i, modelId] of rolledBackModelIds.entries()) {
    approvalIds.push(await insertConfirmation(tx, modelId, 'rollback', input.actor, i === 0 ? input.interactionKey ?? null : null));
  }

  const now = new Date();
  for (const step of plan.steps) {
    // Deactivate first: the partial unique index allows one active row per kit option at any moment.
    await tx.query(
      `UPDATE model_test_types SET is_active = false, deactivated_at = $4 WHERE model_id = $1 AND test_type_id = $2 AND ai_option_uid = $3 AND is_active = ANY($5::bool[])`,
      [step.from, step.testTypeId, step.aiOptionUid, now, flagSourcesOf('activation', 'inactive')],
    );
    // The restored model keeps its own "previous": a second rollback goes further back.
    await tx.query(
      `INSERT INTO model_test_types AS a (model_id, test_type_id, ai_option_uid, is_active, activated_at, activated_by)
       VALUES ($1, $2, $3, true, $4, $5)
       ON CONFLICT (model_id, test_type_id, ai_option_uid)
       DO UPDATE SET is_active = true, activated_at = EXCLUDED.activated_at, activated_by = EXCLUDED.activated_by, deactivated_at = NULL
       WHERE a.is_active = ANY($6::bool[])`,
      [step.to, step.testTypeId, step.aiOptionUid, now, actor.id, flagSourcesOf('activation', 'active')],
    );
  }

  const changed: Deployment[] = [];
  const deprecatedModelIds: string[] = [];
  const stillActive: Record<string, number> = {};
  for (const [i, modelId] of rolledBackModelIds.entries()) {
    const steps = plan.steps.filter((r) => r.from === modelId);
    await writeAudit(tx, actor, { action: 'model.rolled_back', entityType: 'model', entityId: modelId, details: { steps, approvalId: approvalIds[i], subject } });
    const runs = new Set((await activeRows(tx, `model_id = $1`, [modelId])).map(kitOptionKey));
    stillActive[modelId] = runs.size;
    const model = await tx.findOneOrFail(Model, { where: { id: modelId } });
    if (runs.size === 0 && model.status !== 'deprecated') {
      await transition(tx, 'model', modelId, 'deprecated', actor, {}, { reason: 'rolled back', approvalId: approvalIds[i] });
      deprecatedModelIds.push(modelId);
    }
    // A deployment is rolled back once none of its kit options runs its model any more.
    const open = await tx.find(Deployment, { where: { modelId, status: In([...OPEN_DEPLOYMENT]) } });
    for (const d of open) {
      const stillServes = d.scope.length ? d.scope.some((p) => runs.has(kitOptionKey(p))) : runs.size > 0;
      if (stillServes) continue;
      changed.push(await transition(tx, 'deployment', d.id, 'rolled_back', actor, {}, { approvalId: approvalIds[i] }));
    }
  }

  // Edges must now fetch the restored models: one deployment per edge and restored model.
  const edges = await liveEdges(tx);
  const deployments: Deployment[] = [];
  for (const to of [...new Set(plan.steps.map((r) => r.to))]) {
    const m = await tx.findOneOrFail(Model, { where: { id: to } });
    if (m.status === 'approved') await transition(tx, 'model', to, 'deployed', actor, {}, { reason: 'restored by rollback' });
    const steps = plan.steps.filter((r) => r.to === to);
    const scope = steps.map((r) => ({ testTypeId: r.testTypeId, aiOptionUid: r.aiOptionUid, previousModelId: r.from }));
    deployments.push(...(await createDeployments(tx, edges, to, steps[0]!.from, scope, input.actor)));
  }

  const modelNames = await namesOf(tx, plan.steps.flatMap((s) => [s.from, s.to]));
  const result = { kit: planned.kit, rolledBackModelIds, restored: plan.steps, unchanged: plan.unchanged.length, deprecatedModelIds, stillActive, modelNames };
  await saveResult(tx, approvalIds[0]!, { ...result, deploymentIds: deployments.map((d) => d.id) });
  return { ...result, deployments, changed };
}
