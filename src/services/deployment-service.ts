// Deploying an approved model to kit options and edge servers (rollback: rollback-service.ts).
// Each is one transaction: confirmation row (its interaction key makes a repeated click a no-op), activation,
// model status, one deployment per edge, audit. Events go out only after the commit.
import { isUuid } from '../domain/ids.js';
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { Deployment, EdgeServer, Model, type KitOptionRef } from '../db/entities/index.js';
import type { AssayEvents } from '../app/events.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, kitOptionKey, type ApproverAction } from '../domain/index.js';
import { requireAccess } from './access-gate.js';
import { activateModel } from './activation-service.js';
import { slackUser, writeAudit, type Actor } from './audit.js';
import { selectableKitOptions } from './catalog-service.js';
import { isUniqueViolation } from './db-errors.js';
import { transition } from './transitions.js';

export interface DeployInput {
  modelId: string;
  /** Slack user id or 'cli:<user>'. */
  actor: string;
  approvers: ReadonlySet<string>;
  /** Default: every (kit, option) the model serves (see `servedScope`). */
  scope?: KitOptionRef[];
  /** Edge server names; default: all non-revoked edges. */
  targets?: string[];
  /** Slack interaction identity: a repeat is a no-op returning the first result. */
  interactionKey?: string;
  slack?: { channel: string; ts: string };
}

export interface DeployPreview {
  model: Model;
  /** optionName: the option's key; optionTitle: its Salesforce name. */
  scope: { testTypeId: string; kitId: string; kitName: string; aiOptionUid: string; optionName: string; optionTitle: string | null; currentModelId: string | null; currentModelName: string | null }[];
  targets: string[];
}

export interface DeployResult {
  deployments: Deployment[];
  activated: { testTypeId: string; aiOptionUid: string; previousModelId: string | null }[];
  /** True when the interaction key was seen before: nothing was done again. */
  repeated: boolean;
}

/** A deployment's scope entry: the kit option and what it ran before this deployment. */
export interface DeploymentScopeEntry extends KitOptionRef {
  previousModelId: string | null;
}

export const OPEN_DEPLOYMENT = ['pending', 'downloading', 'installing', 'completed', 'failed'] as const;
export const DEPLOYABLE = new Set(['approved', 'deployed']);

export function actorOf(actor: string): Actor {
  return actor.startsWith('cli:') ? { type: 'cli', id: actor.slice(4) || null } : slackUser(actor);
}

/** The access gate for an approver action by a Slack user (or a CLI actor, who is refused). */
export async function requireApprover(dataSource: DataSource, actor: string, action: ApproverAction, approvers: ReadonlySet<string>, entity: { type: string; id: string }) {
  await requireAccess(dataSource.manager, { actor: actorOf(actor), action, approvers, entity });
}

// ---- idempotent confirmations -------------------------------------------------------------

async function storedResult(manager: EntityManager, key: string, kind: 'deploy' | 'rollback'): Promise<Record<string, unknown> | null> {
  const rows: { kind: string; result: Record<string, unknown> | null }[] = await manager.query(`SELECT kind, result FROM approvals WHERE interaction_key = $1`, [key]);
  if (rows.length === 0) return null;
  if (rows[0]!.kind !== kind) throw new ConflictError(`This interaction already confirmed a ${rows[0]!.kind}`);
  return rows[0]!.result ?? {};
}

/** Runs `work` once per interaction key; a repeat (sequential or concurrent) gets the first result. */
export async function once<T>(
  dataSource: DataSource,
  key: string | undefined,
  kind: 'deploy' | 'rollback',
  work: () => Promise<T>,
  revive: (stored: Record<string, unknown>) => Promise<T>,
): Promise<{ value: T; repeated: boolean }> {
  if (key) {
    const prior = await storedResult(dataSource.manager, key, kind);
    if (prior) return { value: await revive(prior), repeated: true };
  }
  try {
    return { value: await work(), repeated: false };
  } catch (e) {
    // The concurrent twin committed first: its confirmation row holds the key.
    if (key && isUniqueViolation(e)) {
      const prior = await storedResult(dataSource.manager, key, kind);
      if (prior) return { value: await revive(prior), repeated: true };
    }
    throw e;
  }
}

export async function insertConfirmation(
  tx: EntityManager,
  modelId: string,
  kind: 'deploy' | 'rollback',
  actor: string,
  key: string | null,
  slack?: { channel: string; ts: string },
): Promise<string> {
  const rows: { id: string }[] = await tx.query(
    `INSERT INTO approvals (model_id, kind, decision, actor, slack_channel, slack_ts, interaction_key)
     VALUES ($1, $2, 'confirmed', $3, $4, $5, $6) RETURNING id`,
    [modelId, kind, actor, slack?.channel ?? null, slack?.ts ?? null, key],
  );
  return rows[0]!.id;
}

export const saveResult = (tx: EntityManager, approvalId: string, result: unknown) =>
  tx.query(`UPDATE approvals SET result = $2 WHERE id = $1`, [approvalId, JSON.stringify(result)]);

// ---- scope and targets --------------------------------------------------------------------

/** Keeps the pairs the wizard would offer (isSelectableKitOption): nothing else is deployed to. */
async function selectableOnly(manager: EntityManager, pairs: KitOptionRef[]): Promise<KitOptionRef[]> {
  const allowed = new Set((await selectableKitOptions(manager, pairs.map((p) => p.testTypeId))).map(kitOptionKey));
  return pairs.filter((p) => allowed.has(kitOptionKey(p)));
}

/**
 * Every (kit, option) the model serves: its training's kits × the lineage's options each kit
 * has, plus kit options mapped to it by a "skip" (model_test_types rows) — only the selectable
 * ones (a link Salesforce marks not selectable, an archived kit or option, is never deployed to).
 */
export async function servedScope(manager: EntityManager, model: Model): Promise<KitOptionRef[]> {
  const rows: { test_type_id: string; ai_option_uid: string }[] = await manager.query(
    `SELECT l.test_type_id, l.ai_option_uid
       FROM test_type_ai_options l
       JOIN test_types t ON t.id = l.test_type_id AND t.status = 'active'
       JOIN training_lineages g ON g.id = $2 AND l.ai_option_uid = ANY(g.option_uids)
      WHERE l.test_type_id = ANY(COALESCE((SELECT test_type_ids FROM model_trainings WHERE uid = $3::uuid), '{}'::uuid[]))
     UNION
     SELECT mt.test_type_id, mt.ai_option_uid
       FROM model_test_types mt JOIN test_types t ON t.id = mt.test_type_id AND t.status = 'active'
      WHERE mt.model_id = $1
     ORDER BY 1, 2`,
    [model.id, model.lineageId, model.trainingUid],
  );
  return selectableOnly(manager, rows.map((r) => ({ testTypeId: r.test_type_id, aiOptionUid: r.ai_option_uid })));
}

/** An explicit scope must name selectable options of the model's label space that the kit has. */
async function checkScope(manager: EntityManager, model: Model, scope: readonly KitOptionRef[]): Promise<KitOptionRef[]> {
  const bad = scope.find((p) => !isUuid(p.testTypeId) || !isUuid(p.aiOptionUid));
  if (bad) throw new ValidationError(`Not a kit option: ${bad.testTypeId}/${bad.aiOptionUid}`, 'scope');
  const unique = [...new Map(scope.map((p) => [kitOptionKey(p), { testTypeId: p.testTypeId, aiOptionUid: p.aiOptionUid }])).values()];
  const rows: { test_type_id: string; ai_option_uid: string }[] = await manager.query(
    `SELECT l.test_type_id, l.ai_option_uid
       FROM test_type_ai_options l
       JOIN test_types t ON t.id = l.test_type_id AND t.status = 'active'
       JOIN training_lineages g ON g.id = $1 AND l.ai_option_uid = ANY(g.option_uids)
      WHERE l.test_type_id = ANY($2::uuid[])`,
    [model.lineageId, unique.map((p) => p.testTypeId)],
  );
  const allowed = new Set((await selectableOnly(manager, rows.map((r) => ({ testTypeId: r.test_type_id, aiOptionUid: r.ai_option_uid })))).map(kitOptionKey));
  const outside = unique.filter((p) => !allowed.has(kitOptionKey(p)));
  if (outside.length) {
    throw new ValidationError(`Model ${model.modelName} cannot serve ${outside.map(kitOptionKey).join(', ')}: not a selectable option of an active kit within its labels`, 'scope');
  }
  return unique;
}

export async function liveEdges(manager: EntityManager, names?: readonly string[]): Promise<EdgeServer[]> {
  const live = await manager.find(EdgeServer, { where: { revokedAt: IsNull() }, order: { name: 'ASC' } });
  if (!names) return live;
  const unknown = [...new Set(names)].filter((n) => !live.some((e) => e.name === n));
  if (unknown.length) throw new ValidationError(`Unknown or revoked edge server(s): ${unknown.join(', ')}`, 'targets');
  return live.filter((e) => names.includes(e.name));
}

/** Same lock order as activateModel (kits by id), taken before any model row: no deadlocks. */
export async function lockKits(tx: EntityManager, kitIds: readonly string[]): Promise<void> {
  if (kitIds.length) await tx.query(`SELECT id FROM test_types WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [[...new Set(kitIds)]]);
}

export async function createDeployments(
  tx: EntityManager,
  edges: readonly EdgeServer[],
  modelId: string,
  previousModelId: string | null,
  scope: DeploymentScopeEntry[],
  requestedBy: string,
): Promise<Deployment[]> {
  if (edges.length === 0) return [];
  const rows = edges.map((e) =>
    tx.create(Deployment, { modelId, previousModelId, target: e.name, edgeServerId: e.id, scope, status: 'pending', requestedBy }),
  );
  return tx.save(Deployment, rows);
}

export function announce(events: AssayEvents | undefined, deployments: readonly Deployment[]) {
  for (const d of deployments) {
    events?.emit('deployment.changed', { deploymentId: d.id, modelId: d.modelId, status: d.status, edge: d.target, error: d.error ?? null });
  }
}

export async function loadDeployments(manager: EntityManager, ids: unknown): Promise<Deployment[]> {
  const list = Array.isArray(ids) ? (ids as string[]) : [];
  if (list.length === 0) return [];
  return manager.find(Deployment, { where: { id: In(list) }, order: { target: 'ASC', createdAt: 'ASC' } });
}

// ---- deploy -------------------------------------------------------------------------------

export async function deploymentPreview(manager: EntityManager, modelId: string): Promise<DeployPreview> {
  if (!isUuid(modelId)) throw new NotFoundError('Model', modelId);
  const model = await manager.findOne(Model, { where: { id: modelId } });
  if (!model) throw new NotFoundError('Model', modelId);
  const scope = await servedScope(manager, model);
  const rows: { test_type_id: string; kit_id: string; kit_name: string; ai_option_uid: string; option_name: string; option_title: string | null; current_model_id: string | null; current_model_name: string | null }[] =
    scope.length === 0
      ? []
      : await manager.query(
          `SELECT t.id AS test_type_id, t.kit_id, t.kit_name, o.uid AS ai_option_uid, o.name AS option_name, o.description AS option_title,
                  cur.model_id AS current_model_id, cm.model_name AS current_model_name
             FROM unnest($1::uuid[], $2::uuid[]) AS s(test_type_id, ai_option_uid)
             JOIN test_types t ON t.id = s.test_type_id
             JOIN ai_options o ON o.uid = s.ai_option_uid
             LEFT JOIN model_test_types cur ON cur.is_active AND cur.test_type_id = s.test_type_id AND cur.ai_option_uid = s.ai_option_uid
             LEFT JOIN models cm ON cm.id = cur.model_id
            ORDER BY lower(t.kit_name), t.kit_id, o.name`,
          [scope.map((p) => p.testTypeId), scope.map((p) => p.aiOptionUid)],
        );
  const edges = await liveEdges(manager);
  return {
    model,
    scope: rows.map((r) => ({
      testTypeId: r.test_type_id,
      kitId: r.kit_id,
      kitName: r.kit_name,
      aiOptionUid: r.ai_option_uid,
      optionName: r.option_name,
      optionTitle: r.option_title,
      currentModelId: r.current_model_id,
      currentModelName: r.current_model_name,
    })),
    targets: edges.map((e) => e.name),
  };
}

export async function deployModel(dataSource: DataSource, input: DeployInput, events?: AssayEvents): Promise<DeployResult> {
  await requireApprover(dataSource, input.actor, 'deploy', input.approvers, { type: 'model', id: input.modelId });
  if (!isUuid(input.modelId)) throw new NotFoundError('Model', input.modelId);
  const { value, repeated } = await once(
    dataSource,
    input.interactionKey,
    'deploy',
    () => dataSource.transaction((tx) => deployInTransaction(tx, input)),
    async (stored) => ({
      deployments: await loadDeployments(dataSource.manager, stored.deploymentIds),
      activated: (stored.activated as DeployResult['activated']) ?? [],
    }),
  );
  if (!repeated) announce(events, value.deployments);
  return { ...value, repeated };
}

async function deployInTransaction(tx: EntityManager, input: DeployInput): Promise<Omit<DeployResult, 'repeated'>> {
  const actor = actorOf(input.actor);
  const found = await tx.findOne(Model, { where: { id: input.modelId } });
  if (!found) throw new NotFoundError('Model', input.modelId);
  const scope = input.scope ? await checkScope(tx, found, input.scope) : await servedScope(tx, found);
  if (scope.length === 0) throw new ValidationError(`Model ${found.modelName} serves no kit option: map it to kits first`, 'scope');
  const edges = await liveEdges(tx, input.targets);

  await lockKits(tx, scope.map((p) => p.testTypeId));
  // First write, after the kit locks: its foreign key takes a KEY SHARE lock on the model row,
  // which the FOR UPDATE below would wait for; held by a confirmation still queued on the kit
  // locks, that is a deadlock. A concurrent click with the same key fails here, changing nothing.
  const approvalId = await insertConfirmation(tx, found.id, 'deploy', input.actor, input.interactionKey ?? null, input.slack);
  const model = await tx.findOne(Model, { where: { id: found.id }, lock: { mode: 'pessimistic_write' } });
  if (!model || !DEPLOYABLE.has(model.status)) {
    throw new ConflictError(`Model ${found.modelName} is ${model?.status ?? 'gone'}: only an approved model can be deployed`);
  }
  const steps = await activateModel(tx, model.id, scope, actor);
  if (model.status === 'approved') await transition(tx, 'model', model.id, 'deployed', actor, {}, { approvalId });

  const scopeEntries: DeploymentScopeEntry[] = steps.map((s) => ({ testTypeId: s.testTypeId, aiOptionUid: s.aiOptionUid, previousModelId: s.previousModelId }));
  const changed = steps.filter((s) => s.changes);
  const previous = (changed.find((s) => s.previousModelId) ?? steps.find((s) => s.previousModelId))?.previousModelId ?? null;
  // A confirmation that raced an identical one (kits locked by now) finds the model already on
  // its way to an edge: one in-flight deployment per edge and model, not one per click.
  const inFlight = edges.length ? await tx.find(Deployment, { where: { modelId: model.id, edgeServerId: In(edges.map((e) => e.id)), status: In(['pending', 'downloading', 'installing']) } }) : [];
  const newEdges = edges.filter((e) => !inFlight.some((d) => d.edgeServerId === e.id));
  const deployments = await createDeployments(tx, newEdges, model.id, previous, scopeEntries, input.actor);
  const activated = changed.map((s) => ({ testTypeId: s.testTypeId, aiOptionUid: s.aiOptionUid, previousModelId: s.previousModelId }));

  await saveResult(tx, approvalId, { deploymentIds: deployments.map((d) => d.id), activated });
  await writeAudit(tx, actor, {
    action: 'model.deploy_confirmed',
    entityType: 'model',
    entityId: model.id,
    details: { approvalId, scope: scopeEntries, targets: edges.map((e) => e.name), deploymentIds: deployments.map((d) => d.id), interactionKey: input.interactionKey ?? null },
  });
  return { deployments, activated };
}

// ---- retry --------------------------------------------------------------------------------

/** A failed deployment goes back to pending (the edge picks it up again); counts the retry. */
export async function retryDeployment(
  dataSource: DataSource,
  input: { deploymentId: string; actor: Actor; /** when an edge asks: it may only retry its own */ edgeId?: string },
  events?: AssayEvents,
): Promise<Deployment> {
  if (!isUuid(input.deploymentId)) throw new NotFoundError('Deployment', input.deploymentId);
  const updated = await dataSource.transaction(async (tx) => {
    const current = await tx.findOne(Deployment, { where: { id: input.deploymentId }, lock: { mode: 'pessimistic_write' } });
    if (!current) throw new NotFoundError('Deployment', input.deploymentId);
    if (input.edgeId && current.edgeServerId !== input.edgeId) throw new ForbiddenError(`Deployment ${input.deploymentId} belongs to another edge server`);
    const retry = current.retryCount + 1;
    return transition(tx, 'deployment', current.id, 'pending', input.actor, { retryCount: retry, error: null, progress: 0 } as Partial<Deployment>, { retry });
  });
  announce(events, [updated]);
  return updated;
}
