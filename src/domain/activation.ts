// Switching the active model of kit options. The database applies the plan atomically;
// this decides what the plan is, and remembers what each option ran before (for rollback).

export interface KitOption {
  testTypeId: string;
  aiOptionUid: string;
}

export interface ActiveAssignment extends KitOption {
  modelId: string;
  previousModelId: string | null;
}

export interface ActivationStep extends KitOption {
  /** The model that was active before (what a rollback returns to), or null. */
  previousModelId: string | null;
  /** False when the model is already the active one: nothing to change. */
  changes: boolean;
}

export const kitOptionKey = (p: KitOption) => `${p.testTypeId}:${p.aiOptionUid}`;

export function planActivation(modelId: string, targets: readonly KitOption[], current: readonly ActiveAssignment[]): ActivationStep[] {
  const active = new Map(current.map((a) => [kitOptionKey(a), a]));
  const seen = new Set<string>();
  const steps: ActivationStep[] = [];
  for (const t of targets) {
    const key = kitOptionKey(t);
    if (seen.has(key)) continue;
    seen.add(key);
    const now = active.get(key);
    if (now?.modelId === modelId) steps.push({ ...t, previousModelId: now.previousModelId, changes: false });
    else steps.push({ ...t, previousModelId: now?.modelId ?? null, changes: true });
  }
  return steps;
}

/** An active kit option and the model a rollback would return it to (null: nothing earlier). */
export interface RollbackCandidate extends ActiveAssignment {
  returnTo: string | null;
}

export interface RollbackStep extends KitOption {
  from: string;
  to: string;
}

export type RollbackPlan =
  | { ok: true; steps: RollbackStep[]; /** kit options with no earlier model: left as they are */ unchanged: ActiveAssignment[]; from: string[] }
  | { ok: false; reason: 'nothing_active' }
  | { ok: false; reason: 'no_earlier_model'; running: string[] }
  | { ok: false; reason: 'stale'; expected: string[]; running: string[] };

const sortedUnique = (ids: readonly string[]) => [...new Set(ids)].sort();

/**
 * What a rollback of these kit options does. Only options with an earlier model move; with none,
 * the rollback is refused. `expectedFrom` names the models the person confirmed rolling back
 * from: when the options now run anything else (another rollback or deploy got there first, or
 * the same confirmation arrives twice) the plan is refused as stale.
 */
export function planRollback(candidates: readonly RollbackCandidate[], expectedFrom?: readonly string[]): RollbackPlan {
  if (candidates.length === 0) return { ok: false, reason: 'nothing_active' };
  const moving = candidates.filter((c) => c.returnTo !== null);
  const running = sortedUnique(candidates.map((c) => c.modelId));
  const from = sortedUnique(moving.map((c) => c.modelId));
  if (expectedFrom) {
    const expected = sortedUnique(expectedFrom);
    if (expected.length !== from.length || expected.some((id, i) => id !== from[i])) return { ok: false, reason: 'stale', expected, running };
  }
  if (moving.length === 0) return { ok: false, reason: 'no_earlier_model', running };
  return {
    ok: true,
    steps: moving.map((c) => ({ testTypeId: c.testTypeId, aiOptionUid: c.aiOptionUid, from: c.modelId, to: c.returnTo! })),
    unchanged: candidates.filter((c) => c.returnTo === null).map(({ returnTo: _r, ...rest }) => rest),
    from,
  };
}
