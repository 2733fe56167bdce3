// Models in a chosen life-cycle state, written through the real services: createModelVersion,
// guarded transitions (draft → evaluating → pending_approval → approved) and the approvals row.
import type { DataSource, EntityManager } from 'typeorm';
import { Model } from '../../src/db/entities/index.js';
import { slackUser, systemActor } from '../../src/services/audit.js';
import { findOrCreateLineage } from '../../src/services/lineage-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { transition } from '../../src/services/transitions.js';
import type { ModelRuntime } from '../../src/domain/index.js';

export interface ModelSpec {
  /** AI option uids: the model's label space (its lineage). */
  optionUids: string[];
  /** Kit uuids mapped to the model (as a wizard "skip" does): its default deploy scope. */
  kitIds?: string[];
  name?: string;
  status?: 'draft' | 'pending_approval' | 'approved';
  approvedBy?: string;
  artifact?: { path: string; sha256: string; size: number };
  /** A detector (or a classifier with a known input): task and labels follow it. */
  runtime?: ModelRuntime;
}

export async function modelInState(dataSource: DataSource, spec: ModelSpec): Promise<Model> {
  return dataSource.transaction(async (tx) => {
    const lineage = await findOrCreateLineage(tx, spec.optionUids, spec.name ?? 'pr_urine');
    const model = await createModelVersion(
      tx,
      {
        lineageId: lineage.id,
        trainingUid: null,
        labels: spec.runtime?.classNames ?? spec.optionUids.map((_, i) => `label_${i}`),
        task: spec.runtime?.task ?? 'classify',
        runtime: spec.runtime ?? null,
        s3ModelPath: spec.artifact?.path ?? null,
        artifactSha256: spec.artifact?.sha256 ?? null,
        artifactSize: spec.artifact?.size ?? null,
      },
      systemActor,
    );
    await mapKits(tx, model.id, spec.kitIds ?? [], spec.optionUids);
    const status = spec.status ?? 'approved';
    if (status === 'draft') return model;
    await transition(tx, 'model', model.id, 'evaluating', systemActor);
    await transition(tx, 'model', model.id, 'pending_approval', systemActor);
    if (status === 'pending_approval') return tx.findOneByOrFail(Model, { id: model.id });
    const approver = spec.approvedBy ?? 'UAPPROVER';
    await transition(tx, 'model', model.id, 'approved', slackUser(approver), { approvedBy: approver, approvedAt: new Date() });
    await tx.query(`INSERT INTO approvals (model_id, kind, decision, actor) VALUES ($1, 'decision', 'approved', $2)`, [model.id, approver]);
    return tx.findOneByOrFail(Model, { id: model.id });
  });
}

export const approvedModel = (dataSource: DataSource, spec: Omit<ModelSpec, 'status'>) => modelInState(dataSource, { ...spec, status: 'approved' });

/** The kit options of `kitIds` within the label space, as the wizard's "skip" maps them. */
async function mapKits(tx: EntityManager, modelId: string, kitIds: string[], optionUids: string[]) {
  if (kitIds.length === 0) return;
  await tx.query(
    `INSERT INTO model_test_types (model_id, test_type_id, ai_option_uid)
     SELECT $1, l.test_type_id, l.ai_option_uid FROM test_type_ai_options l
      WHERE l.test_type_id = ANY($2::uuid[]) AND l.ai_option_uid = ANY($3::uuid[])
     ON CONFLICT (model_id, test_type_id, ai_option_uid) DO NOTHING`,
    [modelId, kitIds, optionUids],
  );
}
