// Reading the kit catalog for people (wizard, /assay kits) and mapping label names.
import type { EntityManager } from 'typeorm';
import type { AiOption, TestType } from '../db/entities/index.js';
import { AiOptionRepository } from '../repositories/ai-option-repository.js';
import { KitRepository, type KitOptionLinkRow, type KitRow } from '../repositories/kit-repository.js';
import { checkLength, isSelectableKitOption, NotFoundError, ValidationError } from '../domain/index.js';
import { writeAudit, type Actor } from './audit.js';
import { isUniqueViolation } from './db-errors.js';

export type KitSummary = KitRow;

/** Active kits that have at least one selectable option: the only ones worth training. */
export async function kitsWithSelectableOptions(manager: EntityManager, search?: string, limit = 100): Promise<{ kits: KitSummary[]; total: number }> {
  const term = search?.trim() || null;
  if (term) checkLength(term, 'search', 'search', 'A kit search');
  return new KitRepository(manager).withSelectableOptions(term, limit);
}

export interface OptionChoice {
  uid: string;
  name: string;
  labelName: string | null;
  exampleImageUrl: string | null;
  description: string | null;
  kits: { id: string; kitId: string; kitName: string }[];
}

/** Every kit option of the given kits with what the selectable rule needs, filtered by it. */
async function selectableLinks(manager: EntityManager, kitIds: readonly string[]): Promise<KitOptionLinkRow[]> {
  const rows = await new KitRepository(manager).optionLinks(kitIds);
  return rows.filter((r) =>
    isSelectableKitOption({ kitActive: r.kit_status === 'active', linkSelectable: r.link_selectable, optionSelectable: r.option_selectable, optionActive: r.option_active }),
  );
}

/** The selectable (kit, option) pairs of the given kits: what may be trained on and deployed to. */
export async function selectableKitOptions(manager: EntityManager, kitIds: readonly string[]): Promise<{ testTypeId: string; aiOptionUid: string }[]> {
  return (await selectableLinks(manager, kitIds)).map((r) => ({ testTypeId: r.kit_id, aiOptionUid: r.uid }));
}

/** Selectable options of the given kits, each with the kits that have it. */
export async function selectableOptionsForKits(manager: EntityManager, kitIds: readonly string[]): Promise<OptionChoice[]> {
  const byOption = new Map<string, OptionChoice>();
  for (const r of await selectableLinks(manager, kitIds)) {
    const o = byOption.get(r.uid) ?? { uid: r.uid, name: r.name, labelName: r.label_name, exampleImageUrl: r.example_image_url, description: r.description, kits: [] };
    o.kits.push({ id: r.kit_id, kitId: r.kit_business_id, kitName: r.kit_name });
    byOption.set(r.uid, o);
  }
  return [...byOption.values()];
}

export async function getKit(manager: EntityManager, idOrKitId: string): Promise<TestType> {
  const kit = await new KitRepository(manager).findByIdOrKitId(idOrKitId);
  if (!kit) throw new NotFoundError('Kit', idOrKitId);
  return kit;
}

/** Saves the annotation label name of an option, for everyone. Must be unique across options. */
export async function setLabelName(manager: EntityManager, optionUid: string, labelName: string, actor: Actor): Promise<AiOption> {
  const label = checkLength(labelName.trim(), 'labelName', 'label_name', 'A label name');
  if (!/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$/.test(label)) {
    throw new ValidationError('Label names are 1-100 letters, digits, spaces, "_", "." or "-"', 'label_name');
  }
  const options = new AiOptionRepository(manager);
  const option = await options.findByUid(optionUid);
  if (!option) throw new NotFoundError('AI option', optionUid);
  if (option.labelName === label) return option;
  const clash = await options.findByLabelName(label);
  if (clash && clash.uid !== optionUid) throw new ValidationError(`"${label}" is already the label name of ${clash.name}`, 'label_name');
  try {
    await options.setLabelName(optionUid, label);
  } catch (e) {
    if (isUniqueViolation(e)) throw new ValidationError(`"${label}" is already the label name of another option`, 'label_name');
    throw e;
  }
  await writeAudit(manager, actor, { action: 'ai_option.label_mapped', entityType: 'ai_option', entityId: optionUid, details: { from: option.labelName, to: label } });
  return { ...option, labelName: label };
}
