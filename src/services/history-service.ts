// Promotion history: for a kit (one option or all) and any moment, which model was active,
// who deployed it and who approved it (read through repositories/promotion-history-repository.ts).
import type { EntityManager } from 'typeorm';
import { NotFoundError, taskLabel, ValidationError, type ModelTask } from '../domain/index.js';
import { AiOptionRepository } from '../repositories/ai-option-repository.js';
import { PromotionHistoryRepository } from '../repositories/promotion-history-repository.js';
import { getKit } from './catalog-service.js';

export interface PromotionInterval {
  modelId: string;
  modelName: string;
  modelVersion: number;
  modelTask: ModelTask;
  modelStatus: string;
  /** When it became the active model of the kit option. */
  from: Date;
  /** When it stopped being active (null: still active, or active beyond `at`). */
  to: Date | null;
  /** Who activated it (deploy or rollback confirmation). */
  deployedBy: string | null;
  /** Who approved the model (its approve decision). */
  approvedBy: string | null;
  approvedAt: Date | null;
}

export interface OptionHistory {
  aiOptionUid: string;
  optionName: string;
  /** The model active at `at`, or null when the option had none. */
  activeAt: PromotionInterval | null;
  /** Every interval that started at or before `at`, oldest first. */
  timeline: PromotionInterval[];
}

export interface PromotionHistory {
  kit: { id: string; kitId: string; kitName: string };
  at: Date;
  options: OptionHistory[];
}

/** `kit`: kit uuid or business kit_id; `option`: option name or uid; `at`: default now. */
export async function promotionHistory(manager: EntityManager, kit: string, at: Date = new Date(), option?: string): Promise<PromotionHistory> {
  if (Number.isNaN(at.getTime())) throw new ValidationError('Not a valid moment: use an ISO time such as 2026-01-31T12:00:00Z', 'at');
  const k = await getKit(manager, kit);
  const options = await new AiOptionRepository(manager).optionsLinkedOrActivated(k.id);
  const picked = option ? options.filter((o) => o.name === option || o.uid === option) : options;
  if (option && picked.length === 0) throw new NotFoundError(`Option of kit ${k.kitId}`, option);

  const history = new PromotionHistoryRepository(manager);
  const events = await history.activationEvents(k.id, at, picked.map((o) => o.uid));
  const models = await history.modelsWithApprovals([...new Set(events.map((e) => e.model_id))]);
  const byId = new Map(models.map((m) => [m.id, m]));

  const result: OptionHistory[] = picked.map((o) => {
    const timeline: PromotionInterval[] = [];
    let open: PromotionInterval | null = null;
    for (const e of events.filter((x) => x.ai_option_uid === o.uid)) {
      const when = new Date(e.at);
      if (e.active) {
        if (open) open.to = when;
        const m = byId.get(e.model_id)!;
        open = {
          modelId: e.model_id,
          modelName: m.model_name,
          modelVersion: Number(m.model_version),
          modelTask: m.task,
          modelStatus: m.status,
          from: when,
          to: null,
          deployedBy: e.actor,
          approvedBy: m.decided_by ?? m.approved_by,
          approvedAt: m.decided_at ? new Date(m.decided_at) : m.approved_at ? new Date(m.approved_at) : null,
        };
        timeline.push(open);
      } else if (open && open.modelId === e.model_id) {
        open.to = when;
        open = null;
      }
    }
    const activeAt = timeline.find((t) => t.from <= at && (t.to === null || t.to > at)) ?? null;
    return { aiOptionUid: o.uid, optionName: o.name, activeAt, timeline };
  });
  return { kit: { id: k.id, kitId: k.kitId, kitName: k.kitName }, at, options: result };
}

const iso = (d: Date | null) => (d ? d.toISOString().replace('.000Z', 'Z') : '');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Plain-text tables (CLI; Slack wraps it in a code block). */
export function formatPromotionHistory(h: PromotionHistory): string {
  const now = table(
    ['OPTION', 'ACTIVE MODEL', 'VERSION', 'TASK', 'SINCE', 'DEPLOYED BY', 'APPROVED BY'],
    h.options.map((o) => {
      const a = o.activeAt;
      return [o.optionName, a?.modelName ?? '(none)', a ? `v${a.modelVersion}` : '', a ? taskLabel(a.modelTask) : '', iso(a?.from ?? null), a?.deployedBy ?? '', a?.approvedBy ?? ''];
    }),
  );
  const steps = h.options.flatMap((o) => o.timeline.map((t) => ({ o, t })));
  steps.sort((x, y) => x.t.from.getTime() - y.t.from.getTime() || x.o.optionName.localeCompare(y.o.optionName));
  const timeline = steps.length
    ? table(
        ['FROM', 'TO', 'OPTION', 'MODEL', 'TASK', 'DEPLOYED BY', 'APPROVED BY'],
        steps.map(({ o, t }) => [iso(t.from), t.to ? iso(t.to) : '(active)', o.optionName, t.modelName, taskLabel(t.modelTask), t.deployedBy ?? '', t.approvedBy ?? '']),
      )
    : 'No model was ever active for this kit before that moment.';
  return `Kit ${h.kit.kitId} "${h.kit.kitName}" at ${iso(h.at)}\n\n${now}\n\nPromotion history:\n${timeline}\n`;
}
