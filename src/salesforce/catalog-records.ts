// What Assay reads from the org, validated at the boundary and turned into plain snapshots of
// kits, options and links. Object and relationship names come from config (SF_*_OBJECT).
import { z } from 'zod';
import type { Config } from '../config/index.js';
import type { CatalogKind, CatalogRecords, KitSnapshot, LinkMessageSnapshot, LinkSnapshot, OptionSnapshot } from '../services/ports/catalog-source.js';

export type ObjectNames = Config['salesforce']['objects'];

const sfId = z.string().regex(/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/, 'must be a Salesforce id');
const optionKey = z.string().trim().toLowerCase().regex(/^[a-z0-9][a-z0-9_]{0,99}$/, 'must be lower-case letters, digits and "_"');
// REST gives `2026-11-01T10:00:00.000+0000` (no colon in the offset); SOAP gives `...Z`.
const modstamp = z
  .string()
  .transform((s) => new Date(s.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')))
  .refine((d) => !Number.isNaN(d.getTime()), 'must be a date-time');
const str = z.string().nullish().transform((v) => (v == null || v.trim() === '' ? null : v.trim()));

const optionFields = z.object({
  Id: sfId,
  Name: str,
  Option_Key__c: optionKey,
  Label_Name__c: str.optional(),
  Selectable__c: z.boolean().nullish(),
  Example_Image_URL__c: str.optional(),
  Active__c: z.boolean().nullish(),
  SystemModstamp: modstamp.nullish(),
});

export function optionSnapshot(raw: unknown): OptionSnapshot {
  const o = optionFields.parse(raw);
  const url = o.Example_Image_URL__c ?? null;
  return {
    sfId: o.Id,
    key: o.Option_Key__c,
    description: o.Name,
    labelName: o.Label_Name__c ?? null,
    selectable: o.Selectable__c ?? true,
    exampleImageUrl: url && /^https?:\/\//i.test(url) ? url : null,
    active: o.Active__c ?? true,
    modstamp: o.SystemModstamp ?? null,
  };
}

const kitFields = z.object({
  Id: sfId,
  Name: z.string().trim().min(1).max(255),
  Kit_Id__c: z.string().trim().min(1).max(100),
  Active__c: z.boolean().nullish(),
  SystemModstamp: modstamp,
});

export interface ChildPage {
  totalSize?: number;
  done: boolean;
  records: Record<string, unknown>[];
  nextRecordsUrl?: string;
}

/** A kit record of the parent-child query; its options come as the relationship's records. */
export function kitSnapshot(raw: Record<string, unknown>, children: Record<string, unknown>[] | null, onSkip: (why: string) => void): KitSnapshot {
  const k = kitFields.parse(raw);
  const links: LinkSnapshot[] = [];
  const seen = new Set<string>();
  for (const child of children ?? []) {
    const parsed = linkFields.safeParse(child);
    if (!parsed.success) {
      onSkip(`kit ${k.Kit_Id__c}: option link ${String(child.Id)} skipped (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
      continue;
    }
    const key = parsed.data.AI_Option__r.Option_Key__c;
    if (seen.has(key)) continue; // the same option linked twice counts once
    seen.add(key);
    links.push({ sfId: parsed.data.Id, optionKey: key, selectable: parsed.data.Selectable__c ?? true });
  }
  return { sfId: k.Id, kitId: k.Kit_Id__c, name: k.Name, active: k.Active__c ?? true, modstamp: k.SystemModstamp, links };
}

/** Kit fields alone (an Outbound Message): links unknown, so they stay as they are. */
export function kitFieldsSnapshot(raw: Record<string, unknown>): KitSnapshot {
  const k = kitFields.parse(raw);
  return { sfId: k.Id, kitId: k.Kit_Id__c, name: k.Name, active: k.Active__c ?? true, modstamp: k.SystemModstamp, links: null };
}

// Option keys have no ':', so the key is what follows the last one (kit ids may contain ':').
const uniqueKey = z
  .string()
  .trim()
  .regex(/^.{1,100}:[A-Za-z0-9][A-Za-z0-9_]{0,99}$/, 'must be kitId:optionKey');

const linkMessageFields = z.object({
  Id: sfId,
  Test_Kit__c: sfId,
  AI_Option__c: sfId,
  Selectable__c: z.boolean().nullish(),
  Unique_Key__c: uniqueKey.nullish(),
  SystemModstamp: modstamp,
});

export function linkMessageSnapshot(raw: Record<string, unknown>): LinkMessageSnapshot {
  const l = linkMessageFields.parse(raw);
  const cut = l.Unique_Key__c ? l.Unique_Key__c.lastIndexOf(':') : -1;
  return {
    sfId: l.Id,
    kitSfId: l.Test_Kit__c,
    optionSfId: l.AI_Option__c,
    kitId: cut > 0 ? l.Unique_Key__c!.slice(0, cut) : null,
    optionKey: cut > 0 ? l.Unique_Key__c!.slice(cut + 1).toLowerCase() : null,
    selectable: l.Selectable__c ?? true,
    modstamp: l.SystemModstamp,
  };
}

/** Fields each object's Outbound Message must send for Assay to apply it without the API. */
export const OUTBOUND_FIELDS = {
  kit: ['Id', 'Name', 'Kit_Id__c', 'Active__c', 'SystemModstamp'],
  option: ['Id', 'Name', 'Option_Key__c', 'Label_Name__c', 'Selectable__c', 'Example_Image_URL__c', 'Active__c', 'SystemModstamp'],
  link: ['Id', 'Test_Kit__c', 'AI_Option__c', 'Selectable__c', 'Unique_Key__c', 'SystemModstamp'],
} as const;


export function catalogKindOf(objects: ObjectNames, entityName: string | null): CatalogKind | null {
  if (entityName === objects.kit) return 'kit';
  if (entityName === objects.option) return 'option';
  if (entityName === objects.link) return 'link';
  return null;
}

/** Why a record's own fields cannot be applied (without the API), or null when they can. */
export function fieldsProblem(kind: CatalogKind, fields: Record<string, unknown>): string | null {
  try {
    if (kind === 'kit') kitFieldsSnapshot(fields);
    else if (kind === 'link') linkMessageSnapshot(fields);
    else if (!optionSnapshot(fields).modstamp) return 'SystemModstamp: is required (it orders the changes)';
    return null;
  } catch (e) {
    if (!(e instanceof z.ZodError)) throw e;
    const issue = e.issues[0];
    const field = issue?.path.join('.') || 'fields';
    return `${field}: ${issue?.code === 'invalid_type' && fields[field] === undefined ? 'is required' : (issue?.message ?? 'invalid')}`;
  }
}

const linkFields = z.object({
  Id: sfId,
  Selectable__c: z.boolean().nullish(),
  AI_Option__r: optionFields,
});

/** The options referenced by kits' links (each once). */
export function optionsOfLinks(children: Record<string, unknown>[]): OptionSnapshot[] {
  const out = new Map<string, OptionSnapshot>();
  for (const c of children) {
    const parsed = linkFields.safeParse(c);
    if (parsed.success) out.set(parsed.data.AI_Option__r.Id, optionSnapshot(c.AI_Option__r));
  }
  return [...out.values()];
}

const OPTION_FIELDS = ['Id', 'Name', 'Option_Key__c', 'Label_Name__c', 'Selectable__c', 'Example_Image_URL__c', 'Active__c', 'SystemModstamp'];

/** One parent-child query: kits with their option links and each link's option. */
export function kitQuery(objects: ObjectNames, where?: string): string {
  // The junction's lookup fields keep their names (AI_Option__c, Test_Kit__c) whatever the objects are called.
  const optionRel = 'AI_Option__r';
  const child = `SELECT Id, Selectable__c, ${OPTION_FIELDS.map((f) => `${optionRel}.${f}`).join(', ')} FROM ${objects.linkRelationship}`;
  return `SELECT Id, Name, Kit_Id__c, Active__c, SystemModstamp, (${child}) FROM ${objects.kit}${where ? ` WHERE ${where}` : ''} ORDER BY Kit_Id__c`;
}

export function optionQuery(objects: ObjectNames, ids: string[]): string {
  return `SELECT ${OPTION_FIELDS.join(', ')} FROM ${objects.option} WHERE Id IN (${quoteIds(ids)})`;
}

/** Junction rows (also deleted ones, via queryAll) → their kits. */
export function linkKitsQuery(objects: ObjectNames, ids: string[]): string {
  return `SELECT Id, Test_Kit__c FROM ${objects.link} WHERE Id IN (${quoteIds(ids)})`;
}

export function quoteIds(ids: string[]): string {
  return ids.map((id) => `'${sfId.parse(id)}'`).join(', ');
}

/** The no-code path's reader of Outbound Message fields, for the core's CatalogRecords port. */
export const catalogRecords: CatalogRecords = {
  fieldsProblem,
  requiredFields: (kind) => OUTBOUND_FIELDS[kind],
  kit: kitFieldsSnapshot,
  option: optionSnapshot,
  link: linkMessageSnapshot,
};
