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
