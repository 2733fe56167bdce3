// Writes kit snapshots from Salesforce in a few set-based statements per batch (unnest arrays,
// ON CONFLICT): a 2,000-row page costs about ten round trips, never one per row. A snapshot
// older than what is stored (sf_last_modified_at) changes nothing.
import type { EntityManager } from 'typeorm';
import type { KitSnapshot, LinkMessageSnapshot, OptionSnapshot } from './ports/catalog-source.js';
import { writeAudit, type Actor } from './audit.js';
import { returnedRows } from '../db/returned-rows.js';
import { sourcesOf } from '../domain/index.js';
import { flagSourcesOf } from './transitions.js';

export interface ArchivedKit {
  id: string;
  kitId: string;
  kitName: string;
}

export interface CatalogChange {
  kitsCreated: number;
  kitsUpdated: number;
  kitsStale: number;
  optionsWritten: number;
  linksAdded: number;
  linksRemoved: number;
  archived: ArchivedKit[];
}

export const emptyChange = (): CatalogChange => ({ kitsCreated: 0, kitsUpdated: 0, kitsStale: 0, optionsWritten: 0, linksAdded: 0, linksRemoved: 0, archived: [] });

export function addChange(into: CatalogChange, c: CatalogChange): CatalogChange {
  into.kitsCreated += c.kitsCreated;
  into.kitsUpdated += c.kitsUpdated;
  into.kitsStale += c.kitsStale;
  into.optionsWritten += c.optionsWritten;
  into.linksAdded += c.linksAdded;
  into.linksRemoved += c.linksRemoved;
  into.archived.push(...c.archived);
  return into;
}

const rowsOf = (result: unknown): any[] => returnedRows(result);

/**
 * A stored Salesforce timestamp further ahead than this (seconds) is not trusted to order changes:
 * incoming ones are clamped before they are written, so only one written before that could be.
 */
export const DEFAULT_MAX_SKEW_SECONDS = 300;

export async function upsertOptions(m: EntityManager, options: OptionSnapshot[], maxSkewSeconds = DEFAULT_MAX_SKEW_SECONDS): Promise<number> {
  const byId = new Map(options.map((o) => [o.sfId, o]));
  const labels = new Set<string>();
  const list = [...byId.values()].map((o) => {
    // Two options must not claim one label in the same batch; the first keeps it.
    const label = o.labelName && !labels.has(o.labelName) ? o.labelName : null;
    if (label) labels.add(label);
    return { ...o, labelName: label };
  });
  // Rows are locked in one order (by key) in every transaction, so concurrent applies do not deadlock.
  list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (list.length === 0) return 0;
  const cols = [list.map((o) => o.sfId), list.map((o) => o.key)];
  // Option key renamed in the org: the row keeps its uid (lineages point at it), only the name moves.
  await m.query(
    `UPDATE ai_options o SET name = u.name, updated_at = now() FROM unnest($1::text[], $2::text[]) AS u(sf_id, name)
      WHERE o.salesforce_id = u.sf_id AND o.name <> u.name AND NOT EXISTS (SELECT 1 FROM ai_options x WHERE x.name = u.name)`,
    cols,
  );
  await m.query(
    `UPDATE ai_options o SET salesforce_id = NULL FROM unnest($1::text[], $2::text[]) AS u(sf_id, name) WHERE o.salesforce_id = u.sf_id AND o.name <> u.name`,
    cols,
  );
  const result = await m.query(
    `INSERT INTO ai_options AS o (salesforce_id, name, description, label_name, selectable, example_image_url, active, sf_last_modified_at)
     SELECT u.sf_id, u.name, u.description,
            CASE WHEN NOT EXISTS (SELECT 1 FROM ai_options x WHERE x.label_name = u.label_name) THEN u.label_name END,
            u.selectable, u.example_image_url, u.active, u.modstamp
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::text[], $7::bool[], $8::timestamptz[])
         AS u(sf_id, name, description, label_name, selectable, example_image_url, active, modstamp)
     ON CONFLICT (name) DO UPDATE SET
       salesforce_id = EXCLUDED.salesforce_id,
       description = COALESCE(EXCLUDED.description, o.description),
       label_name = COALESCE(o.label_name, EXCLUDED.label_name), -- a label people mapped in Slack stays
       selectable = EXCLUDED.selectable,
       example_image_url = COALESCE(EXCLUDED.example_image_url, o.example_image_url),
       active = EXCLUDED.active,
       sf_last_modified_at = COALESCE(EXCLUDED.sf_last_modified_at, o.sf_last_modified_at),
       updated_at = now()
     WHERE o.sf_last_modified_at IS NULL OR EXCLUDED.sf_last_modified_at IS NULL OR EXCLUDED.sf_last_modified_at >= o.sf_last_modified_at
        OR o.sf_last_modified_at > now() + make_interval(secs => $9)
     RETURNING o.uid`,
    [...cols, list.map((o) => o.description), list.map((o) => o.labelName), list.map((o) => o.selectable), list.map((o) => o.exampleImageUrl), list.map((o) => o.active), list.map((o) => o.modstamp), maxSkewSeconds],
  );
  return rowsOf(result).length;
}

/** Kits (fields, status) and, for kits whose links are known, their exact link set. */
export async function upsertKits(m: EntityManager, kits: KitSnapshot[], maxSkewSeconds = DEFAULT_MAX_SKEW_SECONDS): Promise<CatalogChange> {
  const change = emptyChange();
  const list = [...new Map(kits.map((k) => [k.kitId, k])).values()].sort((a, b) => (a.kitId < b.kitId ? -1 : a.kitId > b.kitId ? 1 : 0));
  if (list.length === 0) return change;
  const ids = [list.map((k) => k.sfId), list.map((k) => k.kitId)];
  // Kit_Id__c changed in the org: move the business id of the row Salesforce already owns.
  await m.query(
    `UPDATE test_types t SET kit_id = u.kit_id, updated_at = now() FROM unnest($1::text[], $2::text[]) AS u(sf_id, kit_id)
      WHERE t.salesforce_id = u.sf_id AND t.kit_id <> u.kit_id AND NOT EXISTS (SELECT 1 FROM test_types x WHERE x.kit_id = u.kit_id)`,
    ids,
  );
  await m.query(`UPDATE test_types t SET salesforce_id = NULL FROM unnest($1::text[], $2::text[]) AS u(sf_id, kit_id) WHERE t.salesforce_id = u.sf_id AND t.kit_id <> u.kit_id`, ids);
  // Salesforce's own status is taken as it is: the kit and option machines allow both directions.
  // The RETURNING subquery reads the statement's snapshot, i.e. the status before this update.
  const rows: { id: string; kit_id: string; kit_name: string; status: string; previous_status: string | null }[] = rowsOf(
    await m.query(
      `INSERT INTO test_types AS t (salesforce_id, kit_id, kit_name, status, sf_last_modified_at, last_synced_at)
       SELECT u.sf_id, u.kit_id, u.name, CASE WHEN u.active THEN 'active' ELSE 'archived' END, u.modstamp, now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::timestamptz[]) AS u(sf_id, kit_id, name, active, modstamp)
       ON CONFLICT (kit_id) DO UPDATE SET salesforce_id = EXCLUDED.salesforce_id, kit_name = EXCLUDED.kit_name, status = EXCLUDED.status,
         sf_last_modified_at = EXCLUDED.sf_last_modified_at, last_synced_at = now(), updated_at = now()
       WHERE t.sf_last_modified_at IS NULL OR EXCLUDED.sf_last_modified_at >= t.sf_last_modified_at
          OR t.sf_last_modified_at > now() + make_interval(secs => $6)
       RETURNING t.id, t.kit_id, t.kit_name, t.status, (SELECT p.status FROM test_types p WHERE p.id = t.id) AS previous_status`,
      [...ids, list.map((k) => k.name), list.map((k) => k.active), list.map((k) => k.modstamp), maxSkewSeconds],
    ),
  );
  change.kitsStale = list.length - rows.length;
  for (const r of rows) {
    if (r.previous_status === null) change.kitsCreated++;
    else change.kitsUpdated++;
    if (r.status === 'archived' && r.previous_status !== 'archived') change.archived.push({ id: r.id, kitId: r.kit_id, kitName: r.kit_name });
  }
  const written = new Set(rows.map((r) => r.kit_id));
  const withLinks = list.filter((k) => k.links !== null && written.has(k.kitId));
  if (withLinks.length === 0) return change;
  const kitIds = rows.filter((r) => withLinks.some((k) => k.kitId === r.kit_id)).map((r) => r.id);
  const links = withLinks.flatMap((k) => k.links!.map((l) => ({ kitId: k.kitId, ...l })));
  const cols = [links.map((l) => l.kitId), links.map((l) => l.optionKey), links.map((l) => l.selectable), links.map((l) => l.sfId)];
  // The kept pairs are resolved once (CTE), then anti-joined: no per-row subquery over the input.
  const removed = rowsOf(
    await m.query(
      `WITH keep AS MATERIALIZED (
         SELECT t.id AS test_type_id, o.uid AS ai_option_uid
           FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[]) AS u(kit_id, option_key, selectable, sf_id)
           JOIN test_types t ON t.kit_id = u.kit_id JOIN ai_options o ON o.name = u.option_key)
       DELETE FROM test_type_ai_options l
        WHERE l.test_type_id = ANY($5::uuid[])
          AND NOT EXISTS (SELECT 1 FROM keep k WHERE k.test_type_id = l.test_type_id AND k.ai_option_uid = l.ai_option_uid)
       RETURNING l.uid`,
      [...cols, kitIds],
    ),
  );
  change.linksRemoved = removed.length;
  if (links.length === 0) return change;
  // A junction record moved to another kit or option frees its Salesforce id first.
  await m.query(
    `UPDATE test_type_ai_options l SET salesforce_id = NULL
       FROM unnest($1::text[], $2::text[], $3::text[]) AS u(kit_id, option_key, sf_id)
       JOIN test_types t ON t.kit_id = u.kit_id JOIN ai_options o ON o.name = u.option_key
      WHERE l.salesforce_id = u.sf_id AND (l.test_type_id <> t.id OR l.ai_option_uid <> o.uid)`,
    [cols[0], cols[1], cols[3]],
  );
  const added = rowsOf(
    await m.query(
      `INSERT INTO test_type_ai_options AS l (test_type_id, ai_option_uid, selectable, salesforce_id)
       SELECT t.id, o.uid, u.selectable, u.sf_id
         FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[]) AS u(kit_id, option_key, selectable, sf_id)
         JOIN test_types t ON t.kit_id = u.kit_id JOIN ai_options o ON o.name = u.option_key
       ON CONFLICT (test_type_id, ai_option_uid) DO UPDATE SET selectable = EXCLUDED.selectable, salesforce_id = EXCLUDED.salesforce_id
       WHERE l.selectable IS DISTINCT FROM EXCLUDED.selectable OR l.salesforce_id IS DISTINCT FROM EXCLUDED.salesforce_id
       RETURNING (xmax = 0) AS inserted`,
      cols,
    ),
  );
  change.linksAdded = added.filter((r) => r.inserted === true || r.inserted === 't').length;
  return change;
}

/** Kits the org deleted: archived, never deleted (models and trainings still point at them). */
export async function archiveKitsBySalesforceId(m: EntityManager, sfIds: string[]): Promise<ArchivedKit[]> {
  if (sfIds.length === 0) return [];
  const rows = rowsOf(
    await m.query(
      `UPDATE test_types SET status = 'archived', last_synced_at = now(), updated_at = now()
        WHERE salesforce_id = ANY($1::text[]) AND status = ANY($2::text[]) RETURNING id, kit_id, kit_name`,
      [sfIds, sourcesOf('kit', 'archived')],
    ),
  );
  return rows.map((r) => ({ id: r.id, kitId: r.kit_id, kitName: r.kit_name }));
}

/** After a complete reconciliation: every active kit the org did not list is archived. */
export async function archiveKitsNotIn(m: EntityManager, seenKitIds: string[]): Promise<ArchivedKit[]> {
  const rows = rowsOf(
    await m.query(
      `UPDATE test_types t SET status = 'archived', last_synced_at = now(), updated_at = now()
        WHERE t.status = ANY($2::text[]) AND NOT EXISTS (SELECT 1 FROM unnest($1::text[]) AS s(kit_id) WHERE s.kit_id = t.kit_id)
        RETURNING t.id, t.kit_id, t.kit_name`,
      [seenKitIds, sourcesOf('kit', 'archived')],
    ),
  );
  return rows.map((r) => ({ id: r.id, kitId: r.kit_id, kitName: r.kit_name }));
}

export async function deactivateOptionsBySalesforceId(m: EntityManager, sfIds: string[]): Promise<number> {
  if (sfIds.length === 0) return 0;
  return rowsOf(await m.query(`UPDATE ai_options SET active = false, updated_at = now() WHERE salesforce_id = ANY($1::text[]) AND active = ANY($2::bool[]) RETURNING uid`, [sfIds, flagSourcesOf('option', 'inactive')])).length;
}

export interface ActiveModelNotice {
  testTypeId: string;
  kitId: string;
  kitName: string;
  models: string[];
}

/** Archived kits that still run a model: the ops channel must hear about them. */
export async function activeModelsOf(m: EntityManager, kits: ArchivedKit[]): Promise<ActiveModelNotice[]> {
  if (kits.length === 0) return [];
  const rows = rowsOf(
    await m.query(
      `SELECT a.test_type_id, array_agg(DISTINCT md.model_name ORDER BY md.model_name) AS models
         FROM model_test_types a JOIN models md ON md.id = a.model_id
        WHERE a.is_active AND a.test_type_id = ANY($1::uuid[]) GROUP BY a.test_type_id`,
      [kits.map((k) => k.id)],
    ),
  );
  return rows.map((r) => {
    const kit = kits.find((k) => k.id === r.test_type_id)!;
    return { testTypeId: kit.id, kitId: kit.kitId, kitName: kit.kitName, models: r.models };
  });
}

export async function auditCatalogChange(m: EntityManager, actor: Actor, action: string, change: CatalogChange, extra: Record<string, unknown> = {}): Promise<void> {
  const { archived, ...counts } = change;
  await writeAudit(m, actor, {
    action,
    entityType: 'catalog',
    details: { ...counts, archived: archived.slice(0, 100).map((k) => k.kitId), archivedCount: archived.length, ...extra },
  });
}

export type LinkWrite = { result: 'added' | 'updated' | 'unchanged' } | { result: 'waiting'; reason: string };

/**
 * One junction record from its own Outbound Message fields (no API): its kit and option are
 * found by Salesforce id, else by the business keys of Unique_Key__c (rows not owned by another
 * Salesforce record). If either is not known yet, nothing is written and the caller waits.
 */
export async function upsertLinkFromMessage(m: EntityManager, l: LinkMessageSnapshot): Promise<LinkWrite> {
  const [kit] = rowsOf(
    await m.query(
      `SELECT id FROM test_types WHERE salesforce_id = $1 OR ($2::text IS NOT NULL AND kit_id = $2 AND salesforce_id IS NULL)
        ORDER BY (salesforce_id IS NOT NULL) DESC LIMIT 1`,
      [l.kitSfId, l.kitId],
    ),
  );
  const [option] = rowsOf(
    await m.query(
      `SELECT uid FROM ai_options WHERE salesforce_id = $1 OR ($2::text IS NOT NULL AND name = $2 AND salesforce_id IS NULL)
        ORDER BY (salesforce_id IS NOT NULL) DESC LIMIT 1`,
      [l.optionSfId, l.optionKey],
    ),
  );
  if (!kit) return { result: 'waiting', reason: `waiting for kit ${l.kitSfId}${l.kitId ? ` (${l.kitId})` : ''}: its Outbound Message has not arrived` };
  if (!option) return { result: 'waiting', reason: `waiting for AI option ${l.optionSfId}${l.optionKey ? ` (${l.optionKey})` : ''}: not known yet (send its Outbound Message, or Unique_Key__c with a known option key)` };
  // The junction re-parented in Salesforce: its old pair is gone there.
  await m.query(`DELETE FROM test_type_ai_options WHERE salesforce_id = $1 AND (test_type_id <> $2 OR ai_option_uid <> $3)`, [l.sfId, kit.id, option.uid]);
  const rows = rowsOf(
    await m.query(
      `INSERT INTO test_type_ai_options AS l (test_type_id, ai_option_uid, selectable, salesforce_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (test_type_id, ai_option_uid) DO UPDATE SET selectable = EXCLUDED.selectable, salesforce_id = EXCLUDED.salesforce_id
       WHERE l.selectable IS DISTINCT FROM EXCLUDED.selectable OR l.salesforce_id IS DISTINCT FROM EXCLUDED.salesforce_id
       RETURNING (xmax = 0) AS inserted`,
      [kit.id, option.uid, l.selectable, l.sfId],
    ),
  );
  if (rows.length === 0) return { result: 'unchanged' };
  return { result: rows[0].inserted === true || rows[0].inserted === 't' ? 'added' : 'updated' };
}
