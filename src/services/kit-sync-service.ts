// Kit sync: applying one stored Salesforce event, and the full reconciliation. The event is a
// hint; the org is the truth, so records are re-read through the REST API and written in one
// transaction. Without API credentials, Outbound Messages (kits, options and the junction, which
// carry their fields) are applied directly; a junction whose kit or option has not arrived yet
// waits for it. Whatever cannot be applied ends `failed` with an ops notice (never silently).
import type { DataSource, EntityManager } from 'typeorm';
import type { Config } from '../config/index.js';
import type { Logger } from '../app/logger.js';
import type { Notifier } from '../app/notifier.js';
import type { JobQueue } from './ports/job-queue.js';
import { JOBS } from './ports/job-queue.js';
import { SalesforceEvent } from '../db/entities/index.js';
import { clampFuture, IllegalTransitionError, sourcesOf } from '../domain/index.js';
import { setStatus } from './transitions.js';
import { RetryableSalesforceError, SalesforceNotConfiguredError, type CatalogRecords, type CatalogSource, type KitSnapshot, type LinkMessageSnapshot, type OptionSnapshot } from './ports/catalog-source.js';
import type { Actor } from './audit.js';
import { isTransientConflict } from './db-errors.js';
import {
  activeModelsOf,
  addChange,
  archiveKitsBySalesforceId,
  archiveKitsNotIn,
  auditCatalogChange,
  deactivateOptionsBySalesforceId,
  emptyChange,
  upsertKits,
  upsertLinkFromMessage,
  upsertOptions,
  type ArchivedKit,
  type CatalogChange,
} from './kit-sync-upsert.js';

export interface KitSyncDeps {
  dataSource: DataSource;
  config: Config;
  logger: Logger;
  notifier: Notifier;
  queue: JobQueue;
  /** The org's API; absent when neither JWT nor SF_ALIAS is configured. */
  catalog: CatalogSource | undefined;
  /** Reads an Outbound Message's own fields (the no-code path). */
  records: CatalogRecords;
}

type EntityKind = 'kit' | 'option' | 'link';

function kindOf(config: Config, entityName: string | null): EntityKind | null {
  const o = config.salesforce.objects;
  if (entityName === o.kit) return 'kit';
  if (entityName === o.option) return 'option';
  if (entityName === o.link) return 'link';
  return null;
}

export interface ApplyOutcome {
  /** waiting: a junction whose kit or option has not arrived; it stays `received` and is tried again when they do. */
  status: 'applied' | 'ignored' | 'failed' | 'skipped' | 'waiting';
  detail?: string;
  change?: CatalogChange;
  /** When the event was stored (for the apply-lag metric); absent when nothing was done. */
  receivedAt?: Date;
}

async function finish(m: EntityManager, id: string, status: 'applied' | 'ignored' | 'failed', error: string | null) {
  await setStatus(m, 'salesforce_event', id, status, { error, attempts: () => 'attempts + 1', processedAt: () => 'now()' });
}

/** Ops notice for kits archived while a model still runs for them (audit_log; Slack when configured). */
async function noticeArchived(deps: KitSyncDeps, notices: Awaited<ReturnType<typeof activeModelsOf>>) {
  for (const n of notices) {
    await deps.notifier
      .notify({
        kind: 'kit_archived_with_active_model',
        text: `Kit ${n.kitId} "${n.kitName}" was removed or deactivated in Salesforce and is archived, but it still has active model(s): ${n.models.join(', ')}.`,
        entityType: 'test_type',
        entityId: n.testTypeId,
        details: { kitId: n.kitId, models: n.models },
      })
      .catch((err) => deps.logger.error({ err, kitId: n.kitId }, 'could not post the archived-kit notice'));
  }
}

/** Is every named record already stored with a newer Salesforce timestamp than the event? */
async function isStale(m: EntityManager, kind: EntityKind, ids: string[], at: Date, maxSkewSeconds: number): Promise<boolean> {
  if (kind === 'link' || ids.length === 0) return false;
  const table = kind === 'kit' ? 'test_types' : 'ai_options';
  // A stored timestamp beyond the skew (written before it was clamped) orders nothing.
  const [row] = await m.query(
    `SELECT count(*) FILTER (WHERE sf_last_modified_at > $2 AND sf_last_modified_at <= now() + make_interval(secs => $3)) AS newer, count(*) AS known FROM ${table} WHERE salesforce_id = ANY($1::text[])`,
    [ids, at, maxSkewSeconds],
  );
  return Number(row.newer) === ids.length;
}

interface Plan {
  kits: KitSnapshot[];
  options: OptionSnapshot[];
  archiveKitSfIds: string[];
  deactivateOptionSfIds: string[];
  skipped: string[];
  /** A junction record from its own Outbound Message (no API). */
  link?: LinkMessageSnapshot;
}

/** A waiting junction gets an ops notice after this long, and gives up (failed) after Salesforce's own 24 h. */
export const LINK_WAIT_NOTICE_MS = 10 * 60_000;
export const LINK_WAIT_GIVE_UP_MS = 24 * 60 * 60_000;
/** At most this many unapplied-event notices per 10 minutes; `/assay status salesforce` lists them all. */
const UNAPPLIED_NOTICES_PER_10_MIN = 5;

/** Ops notice (audit_log; Slack ops channel when configured) for an event Assay cannot apply. */
async function noticeUnapplied(deps: KitSyncDeps, event: SalesforceEvent, reason: string, state: 'failed' | 'waiting'): Promise<void> {
  try {
    const [recent] = await deps.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'notice.salesforce_event_unapplied' AND at > now() - interval '10 minutes'`);
    if (recent.n >= UNAPPLIED_NOTICES_PER_10_MIN) return;
    const what = `${event.source === 'outbound' ? 'Outbound Message' : 'change event'} for ${event.entityName ?? 'an unknown object'} ${event.recordIds[0] ?? ''}`.trim();
    await deps.notifier.notify({
      kind: 'salesforce_event_unapplied',
      text: `Salesforce ${what} ${state === 'failed' ? 'could not be applied' : 'is still waiting'}: ${reason}. /assay status salesforce lists every event Assay has not applied.`,
      entityType: 'salesforce_event',
      entityId: event.id,
      details: { eventKey: event.eventKey, state, reason },
    });
  } catch (err) {
    deps.logger.error({ err, eventId: event.id }, 'could not post the unapplied-event notice');
  }
}

/** Junction events waiting for these kits/options (by Salesforce id) go back to the queue. */
async function requeueWaitingLinks(deps: KitSyncDeps, kitSfIds: string[], optionSfIds: string[]): Promise<void> {
  if (kitSfIds.length + optionSfIds.length === 0) return;
  const rows: { id: string }[] = await deps.dataSource.query(
    `SELECT id FROM salesforce_events
      WHERE status = 'received' AND entity_name = $1 AND error IS NOT NULL
        AND (payload->'sObject'->>'Test_Kit__c' = ANY($2::text[]) OR payload->'sObject'->>'AI_Option__c' = ANY($3::text[]))
      ORDER BY received_at LIMIT 1000`,
    [deps.config.salesforce.objects.link, kitSfIds, optionSfIds],
  );
  await Promise.all(rows.map((r) => deps.queue.now(JOBS.salesforceSync, { eventId: r.id })));
}

async function planFromApi(deps: KitSyncDeps, source: CatalogSource, kind: EntityKind, ids: string[]): Promise<Plan> {
  if (kind === 'option') {
    const { options, skipped } = await source.readOptions(ids);
    const found = new Set(options.map((o) => o.sfId));
    return { kits: [], options, archiveKitSfIds: [], deactivateOptionSfIds: ids.filter((id) => !found.has(id)), skipped };
  }
  let kitIds = ids;
  if (kind === 'link') {
    // The junction may be gone already: ask the recycle bin, and remember which kit we linked it to.
    const local: { salesforce_id: string }[] = await deps.dataSource.query(
      `SELECT DISTINCT t.salesforce_id FROM test_type_ai_options l JOIN test_types t ON t.id = l.test_type_id WHERE l.salesforce_id = ANY($1::text[]) AND t.salesforce_id IS NOT NULL`,
      [ids],
    );
    kitIds = [...new Set([...(await source.kitsOfLinks(ids)), ...local.map((r) => r.salesforce_id)])];
  }
  const page = kitIds.length ? await source.readKits(kitIds) : { kits: [], options: [], skipped: [] };
  const found = new Set(page.kits.map((k) => k.sfId));
  return { kits: page.kits, options: page.options, archiveKitSfIds: kitIds.filter((id) => !found.has(id)), deactivateOptionSfIds: [], skipped: page.skipped };
}

/** Outbound Message fields applied as they are (API off). Needs SystemModstamp to order them. */
function planFromMessage(records: CatalogRecords, kind: EntityKind, event: SalesforceEvent): Plan {
  const sObject = (event.payload as { sObject?: Record<string, unknown> }).sObject ?? {};
  const problem = records.fieldsProblem(kind, sObject);
  if (problem) throw new Error(`Salesforce API not configured, and the Outbound Message cannot be applied from its fields (${problem}); it must send ${records.requiredFields(kind).join(', ')}`);
  const none: Plan = { kits: [], options: [], archiveKitSfIds: [], deactivateOptionSfIds: [], skipped: [] };
  if (kind === 'kit') return { ...none, kits: [records.kit(sObject)] };
  if (kind === 'link') return { ...none, link: records.link(sObject) };
  return { ...none, options: [records.option(sObject)] };
}

type LinkWritten = { waiting: string } | { stale: true } | { change: CatalogChange };

/** One junction from its message, inside the event's transaction; ordered by SystemModstamp against the junction's applied events. */
async function writeLinkMessage(m: EntityManager, event: SalesforceEvent, link: LinkMessageSnapshot, actor: Actor): Promise<LinkWritten> {
  // Two messages about one junction apply one after the other, so the newer always wins.
  await m.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`salesforce-link:${link.sfId}`]);
  const [newer] = await m.query(
    `SELECT 1 FROM salesforce_events WHERE entity_name = $1 AND status = 'applied' AND record_ids @> ARRAY[$2]::text[] AND commit_timestamp > $3 AND id <> $4 LIMIT 1`,
    [event.entityName, link.sfId, link.modstamp, event.id],
  );
  if (newer) return { stale: true };
  const w = await upsertLinkFromMessage(m, link);
  if (w.result === 'waiting') return { waiting: w.reason };
  const change = { ...emptyChange(), linksAdded: w.result === 'added' ? 1 : 0 };
  await auditCatalogChange(m, actor, 'catalog.event_applied', change, { eventKey: event.eventKey, entity: event.entityName, link: link.sfId, result: w.result });
  return { change };
}

interface FutureStamp {
  kind: 'kit' | 'option';
  sfId: string;
  name: string;
  given: Date;
  storedAs: Date;
}

/** Clamps SystemModstamps beyond the allowed skew to now (in the plan); returns what was clamped. */
function clampFutureStamps(plan: Plan, maxSkewSeconds: number, now = new Date()): FutureStamp[] {
  const clamped: FutureStamp[] = [];
  const clamp = <T extends { sfId: string; modstamp: Date | null }>(kind: 'kit' | 'option', r: T, name: string): T => {
    if (!r.modstamp) return r;
    const c = clampFuture(r.modstamp, now, maxSkewSeconds * 1000);
    if (!c.future) return r;
    clamped.push({ kind, sfId: r.sfId, name, given: c.future, storedAs: c.at });
    return { ...r, modstamp: c.at };
  };
  plan.kits = plan.kits.map((k) => clamp('kit', k, `kit ${k.kitId} "${k.name}"`));
  plan.options = plan.options.map((o) => clamp('option', o, `AI option ${o.key}`));
  return clamped;
}

/** Says it (ops notice, so audit_log and the Slack ops channel) whenever a timestamp was clamped. */
async function noticeFutureStamps(deps: KitSyncDeps, clamped: FutureStamp[]): Promise<void> {
  for (const c of clamped) {
    await deps.notifier
      .notify({
        kind: 'salesforce_future_timestamp',
        text: `Salesforce sent ${c.name} (${c.sfId}) with SystemModstamp ${c.given.toISOString()}, more than ${deps.config.salesforce.maxClockSkewSeconds} s in the future; stored as ${c.storedAs.toISOString()} so later changes still apply.`,
        entityType: c.kind === 'kit' ? 'salesforce_kit' : 'salesforce_option',
        entityId: c.sfId,
        details: { given: c.given.toISOString(), storedAs: c.storedAs.toISOString() },
      })
      .catch((err) => deps.logger.error({ err, sfId: c.sfId }, 'could not post the future-timestamp notice'));
  }
}

async function writePlan(m: EntityManager, plan: Plan, actor: Actor, action: string, extra: Record<string, unknown>, maxSkewSeconds: number): Promise<{ change: CatalogChange; notices: Awaited<ReturnType<typeof activeModelsOf>> }> {
  const change = emptyChange();
  change.optionsWritten = await upsertOptions(m, plan.options, maxSkewSeconds);
  addChange(change, await upsertKits(m, plan.kits, maxSkewSeconds));
  change.archived.push(...(await archiveKitsBySalesforceId(m, plan.archiveKitSfIds)));
  await deactivateOptionsBySalesforceId(m, plan.deactivateOptionSfIds);
  const notices = await activeModelsOf(m, change.archived);
  await auditCatalogChange(m, actor, action, change, { ...extra, ...(plan.skipped.length ? { skipped: plan.skipped.slice(0, 20) } : {}) });
  return { change, notices };
}

/**
 * Concurrent applies touching the same kits and options can deadlock in PostgreSQL, which then
 * rolls one back; the transaction is simply run again (a few times) instead of failing the job.
 */
async function retryOnConflict<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (e) {
      if (i >= attempts || !isTransientConflict(e)) throw e;
      await new Promise((r) => setTimeout(r, 20 * i + Math.random() * 50));
    }
  }
}

/** The `salesforce.sync` job: applies one stored event. Retryable API errors are rethrown. */
export async function applySalesforceEvent(deps: KitSyncDeps, eventId: string): Promise<ApplyOutcome> {
  const repo = deps.dataSource.getRepository(SalesforceEvent);
  const event = await repo.findOne({ where: { id: eventId } });
  if (!event || event.status !== 'received') return { status: 'skipped', detail: event ? `already ${event.status}` : 'no such event' };
  const done = async (status: 'applied' | 'ignored' | 'failed', detail: string | null): Promise<ApplyOutcome> => {
    try {
      await deps.dataSource.transaction((m) => finish(m, event.id, status, detail));
    } catch (e) {
      // A duplicate job finished the event since it was read: the machine refuses a second end.
      if (e instanceof IllegalTransitionError) return { status: 'skipped', detail: 'applied by another worker' };
      throw e;
    }
    if (status === 'failed') await noticeUnapplied(deps, event, detail ?? 'failed', 'failed');
    return { status, detail: detail ?? undefined, receivedAt: event.receivedAt };
  };
  const kind = kindOf(deps.config, event.entityName);
  if (!kind) return done('ignored', `${event.entityName ?? 'unknown object'} is not a synced object`);
  const ids = event.recordIds;
  if (event.changeType === 'GAP_OVERFLOW' || ids.some((id) => id.includes('*'))) {
    await deps.queue.now(JOBS.salesforceReconcile, { requestedBy: `event:${event.eventKey}` });
    return done('applied', 'full reconciliation requested');
  }
  if (ids.length === 0) return done('ignored', 'no record ids');
  if (event.commitTimestamp && (await isStale(deps.dataSource.manager, kind, ids, event.commitTimestamp, deps.config.salesforce.maxClockSkewSeconds))) {
    return done('ignored', 'stale: older than the stored sf_last_modified_at');
  }
  let plan: Plan;
  let clamped: FutureStamp[];
  try {
    if (deps.catalog) plan = await planFromApi(deps, deps.catalog, kind, ids);
    else if (event.source === 'outbound') plan = planFromMessage(deps.records, kind, event);
    else return done('failed', new SalesforceNotConfiguredError().message);
    clamped = clampFutureStamps(plan, deps.config.salesforce.maxClockSkewSeconds);
  } catch (e) {
    if (e instanceof RetryableSalesforceError) {
      await deps.dataSource.query(`UPDATE salesforce_events SET attempts = attempts + 1, error = $2 WHERE id = $1`, [event.id, e.message.slice(0, 500)]);
      throw e;
    }
    return done('failed', (e as Error).message.slice(0, 500));
  }
  const actor: Actor = { type: 'salesforce', id: event.eventKey };
  if (plan.link) return applyLinkMessage(deps, event, plan.link, actor);
  const written = await retryOnConflict(() => deps.dataSource.transaction(async (m) => {
    // Another worker may have applied a duplicate job meanwhile: the row lock decides.
    const [row] = await m.query(`SELECT status FROM salesforce_events WHERE id = $1 FOR UPDATE`, [event.id]);
    if (row?.status !== 'received') return null;
    const result = await writePlan(m, plan, actor, 'catalog.event_applied', { eventKey: event.eventKey, changeType: event.changeType, entity: event.entityName }, deps.config.salesforce.maxClockSkewSeconds);
    const stale = result.change.kitsStale > 0 && plan.kits.length === result.change.kitsStale && plan.archiveKitSfIds.length === 0;
    await finish(m, event.id, 'applied', stale ? 'stale: older than the stored sf_last_modified_at' : null);
    return result;
  }));
  if (!written) return { status: 'skipped', detail: 'applied by another worker' };
  await noticeArchived(deps, written.notices);
  await noticeFutureStamps(deps, clamped);
  // No API: junctions that arrived before their kit or option can be applied now.
  if (!deps.catalog) await requeueWaitingLinks(deps, plan.kits.map((k) => k.sfId), plan.options.map((o) => o.sfId));
  return { status: 'applied', change: written.change, receivedAt: event.receivedAt };
}

/**
 * `recheck`: a junction that waits is tried once more after its commit. The kit or option it
 * waits for may have committed while this transaction ran, and that one's requeue of waiting
 * junctions ran before this one's "waiting" was visible; without the second look the junction
 * would wait for the 10-minute sweep.
 */
async function applyLinkMessage(deps: KitSyncDeps, event: SalesforceEvent, link: LinkMessageSnapshot, actor: Actor, recheck = true): Promise<ApplyOutcome> {
  const age = Date.now() - event.receivedAt.getTime();
  let notice: { reason: string; state: 'failed' | 'waiting' } | null = null;
  const outcome = await retryOnConflict(() => deps.dataSource.transaction(async (m): Promise<ApplyOutcome> => {
    notice = null;
    const [row] = await m.query(`SELECT status, error FROM salesforce_events WHERE id = $1 FOR UPDATE`, [event.id]);
    if (row?.status !== 'received') return { status: 'skipped', detail: 'applied by another worker' };
    const w = await writeLinkMessage(m, event, link, actor);
    if ('stale' in w) {
      await finish(m, event.id, 'ignored', 'stale: older than an applied message about the same junction');
      return { status: 'ignored', detail: 'stale', receivedAt: event.receivedAt };
    }
    if ('change' in w) {
      await finish(m, event.id, 'applied', null);
      return { status: 'applied', change: w.change, receivedAt: event.receivedAt };
    }
    if (age > LINK_WAIT_GIVE_UP_MS) {
      const reason = `${w.waiting}; gave up after 24 hours`;
      await finish(m, event.id, 'failed', reason);
      notice = { reason, state: 'failed' };
      return { status: 'failed', detail: reason, receivedAt: event.receivedAt };
    }
    // Still `received`: re-queued when the kit/option arrives, and by the reconcile sweep.
    const noticed = String(row.error ?? '').startsWith('still ');
    if (!noticed && age > LINK_WAIT_NOTICE_MS) notice = { reason: w.waiting, state: 'waiting' };
    const error = noticed || notice ? `still ${w.waiting}` : w.waiting;
    await m.query(`UPDATE salesforce_events SET attempts = attempts + 1, error = $2 WHERE id = $1`, [event.id, error]);
    return { status: 'waiting', detail: error };
  }));
  const n = notice as { reason: string; state: 'failed' | 'waiting' } | null;
  if (n) await noticeUnapplied(deps, event, n.reason, n.state);
  if (outcome.status === 'waiting' && recheck) return applyLinkMessage(deps, event, link, actor, false);
  return outcome;
}

/** The apply job gave up retrying (Salesforce unavailable or over its limit for hours): failed, and said so. */
export async function failEventAfterRetries(deps: KitSyncDeps, eventId: string, reason: string): Promise<void> {
  const [event] = await deps.dataSource.getRepository(SalesforceEvent).findBy({ id: eventId, status: 'received' });
  if (!event) return;
  const detail = `gave up after repeated retries: ${reason}`.slice(0, 500);
  await deps.dataSource.query(`UPDATE salesforce_events SET status = 'failed', error = $2, processed_at = now() WHERE id = $1 AND status = ANY($3::text[])`, [eventId, detail, sourcesOf('salesforce_event', 'failed')]);
  await noticeUnapplied(deps, event, detail, 'failed');
}

export interface ReconcileResult extends Omit<CatalogChange, 'archived'> {
  kitsSeen: number;
  pages: number;
  archived: string[];
  skipped: number;
  restCalls: number;
  apiUsage?: { used: number; limit: number };
  durationMs: number;
}

/** Reads every kit of the org page by page (one transaction per page), then archives the absent ones. */
export async function reconcileCatalog(deps: KitSyncDeps, requestedBy: string): Promise<ReconcileResult> {
  const source = deps.catalog;
  if (!source) throw new SalesforceNotConfiguredError();
  const started = Date.now();
  const callsBefore = source.calls;
  const actor: Actor = requestedBy.startsWith('cli') ? { type: 'cli', id: requestedBy } : { type: 'salesforce', id: `reconcile:${requestedBy}` };
  const total = emptyChange();
  const seen: string[] = [];
  let pages = 0;
  let skipped = 0;
  for await (const page of source.readAllKits()) {
    pages++;
    skipped += page.skipped.length;
    for (const why of page.skipped.slice(0, 5)) deps.logger.warn({ why }, 'Salesforce record skipped');
    const plan: Plan = { kits: page.kits, options: page.options, archiveKitSfIds: [], deactivateOptionSfIds: [], skipped: page.skipped };
    const clamped = clampFutureStamps(plan, deps.config.salesforce.maxClockSkewSeconds);
    const { change, notices } = await deps.dataSource.transaction((m) => writePlan(m, plan, actor, 'catalog.reconciled_page', { page: pages }, deps.config.salesforce.maxClockSkewSeconds));
    addChange(total, change);
    await noticeArchived(deps, notices);
    await noticeFutureStamps(deps, clamped);
    seen.push(...page.kits.map((k) => k.kitId));
  }
  // Only a complete read may archive; an org that lists no kit at all is more likely misconfigured.
  let archivedAbsent: ArchivedKit[] = [];
  if (seen.length > 0) {
    const result = await deps.dataSource.transaction(async (m) => {
      const archived = await archiveKitsNotIn(m, seen);
      const notices = await activeModelsOf(m, archived);
      const change = { ...emptyChange(), archived };
      await auditCatalogChange(m, actor, 'catalog.reconciled', change, { kitsSeen: seen.length, pages, requestedBy });
      return { archived, notices };
    });
    archivedAbsent = result.archived;
    await noticeArchived(deps, result.notices);
  } else deps.logger.warn('Salesforce listed no kits; nothing archived');
  total.archived.push(...archivedAbsent);
  const { archived, ...counts } = total;
  return {
    ...counts,
    kitsSeen: seen.length,
    pages,
    archived: archived.map((k) => k.kitId),
    skipped,
    restCalls: source.calls - callsBefore,
    apiUsage: source.apiUsage(),
    durationMs: Date.now() - started,
  };
}
