// Reading the kit catalog for people (wizard, /assay kits) and mapping label names.
import type { EntityManager } from 'typeorm';
import { AiOption, TestType } from '../db/entities/index.js';
import { checkLength, isSelectableKitOption, NotFoundError, ValidationError } from '../domain/index.js';
import { writeAudit, type Actor } from './audit.js';
import { isUniqueViolation } from './db-errors.js';

export interface KitSummary {
  id: string;
  kitId: string;
  kitName: string;
  selectableOptions: number;
}

/**
 * Active kits that have at least one selectable option: the only ones worth training. The SQL
 * form of isSelectableKitOption (domain/catalog.ts), so the kit list can be counted and paged.
 */
export async function kitsWithSelectableOptions(manager: EntityManager, search?: string, limit = 100): Promise<{ kits: KitSummary[]; total: number }> {
  const params: unknown[] = [];
  let filter = '';
  if (search && search.trim()) {
    checkLength(search.trim(), 'search', 'search', 'A kit search');
    params.push(`%${search.trim().toLowerCase().replace(/[%_\\]/g, (c) => '\\' + c)}%`);
    filter = `AND (lower(t.kit_name) LIKE $1 OR lower(t.kit_id) LIKE $1)`;
  }
  const rows: { id: string; kit_id: string; kit_name: string; n: string; total: string }[] = await manager.query(
    `SELECT t.id, t.kit_id, t.kit_name, count(*) AS n, count(*) OVER () AS total
       FROM test_types t
       JOIN test_type_ai_options l ON l.test_type_id = t.id AND l.selectable
       JOIN ai_options o ON o.uid = l.ai_option_uid AND o.selectable AND o.active
      WHERE t.status = 'active' ${filter}
      GROUP BY t.id
      ORDER BY lower(t.kit_name), t.kit_id
      LIMIT ${Math.max(1, Math.min(limit, 1000))}`,
    params,
  );
  return {
    kits: rows.map((r) => ({ id: r.id, kitId: r.kit_id, kitName: r.kit_name, selectableOptions: Number(r.n) })),
    total: rows.length ? Number(rows[0]!.total) : 0,
  };
}

export interface OptionChoice {
  uid: string;
  name: string;
  labelName: string | null;
  exampleImageUrl: string | null;
  description: string | null;
  kits: { id: string; kitId: string; kitName: string }[];
}

interface LinkRow {
  uid: string;
  name: string;
  label_name: string | null;
  example_image_url: string | null;
  description: string | null;
  kit_id: string;
  kit_name: string;
  kit_business_id: string;
  kit_status: string;
  link_selectable: boolean;
  option_selectable: boolean;
  option_active: boolean;
}

/** Every kit option of the given kits with what the selectable rule needs, filtered by it. */
async function selectableLinks(manager: EntityManager, kitIds: readonly string[]): Promise<LinkRow[]> {
  if (kitIds.length === 0) return [];
  const rows: LinkRow[] = await manager.query(
    `SELECT o.uid, o.name, o.label_name, o.example_image_url, o.description, t.id AS kit_id, t.kit_name, t.kit_id AS kit_business_id,
            t.status AS kit_status, l.selectable AS link_selectable, o.selectable AS option_selectable, o.active AS option_active
       FROM test_types t
       JOIN test_type_ai_options l ON l.test_type_id = t.id
       JOIN ai_options o ON o.uid = l.ai_option_uid
      WHERE t.id = ANY($1::uuid[])
      ORDER BY o.name, t.kit_name`,
    [[...new Set(kitIds)]],
  );
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
  const uuid = /^[0-9a-f-]{36}$/i.test(idOrKitId);
  const kit = await manager.findOne(TestType, { where: uuid ? [{ id: idOrKitId }, { kitId: idOrKitId }] : { kitId: idOrKitId } });
  if (!kit) throw new NotFoundError('Kit', idOrKitId);
  return kit;
}

/** Saves the annotation label name of an option, for everyone. Must be unique across options. */
export async function setLabelName(manager: EntityManager, optionUid: string, labelName: string, actor: Actor): Promise<AiOption> {
  const label = checkLength(labelName.trim(), 'labelName', 'label_name', 'A label name');
  if (!/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$/.test(label)) {
    throw new ValidationError('Label names are 1-100 letters, digits, spaces, "_", "." or "-"', 'label_name');
  }
  const option = await manager.findOne(AiOption, { where: { uid: optionUid } });
  if (!option) throw new NotFoundError('AI option', optionUid);
  if (option.labelName === label) return option;
  const clash = await manager.findOne(AiOption, { where: { labelName: label } });
  if (clash && clash.uid !== optionUid) throw new ValidationError(`"${label}" is already the label name of ${clash.name}`, 'label_name');
  try {
    await manager.update(AiOption, { uid: optionUid }, { labelName: label });
  } catch (e) {
    if (isUniqueViolation(e)) throw new ValidationError(`"${label}" is already the label name of another option`, 'label_name');
    throw e;
  }
  await writeAudit(manager, actor, { action: 'ai_option.label_mapped', entityType: 'ai_option', entityId: optionUid, details: { from: option.labelName, to: label } });
  return { ...option, labelName: label };
}
