// Reads kits (with links and options) from the org page by page: the parent query follows
// nextRecordsUrl (queryMore), and a kit whose links did not fit in the batch follows its own
// subquery nextRecordsUrl. A null subquery is a kit without options.
import type { CatalogPage, CatalogSource, OptionSnapshot } from '../services/ports/catalog-source.js';
import type { SalesforceClient } from './client.js';
import { kitQuery, kitSnapshot, quoteIds, linkKitsQuery, optionQuery, optionSnapshot, optionsOfLinks, type ChildPage, type ObjectNames } from './catalog-records.js';

interface QueryResult extends ChildPage {
  totalSize: number;
}

async function childRecords(client: SalesforceClient, page: ChildPage | null | undefined): Promise<Record<string, unknown>[] | null> {
  if (!page) return null;
  const records = [...page.records];
  let next = page.nextRecordsUrl;
  while (next) {
    const more = await client.get<ChildPage>(next);
    records.push(...more.records);
    next = more.nextRecordsUrl;
  }
  return records;
}

async function toPage(client: SalesforceClient, objects: ObjectNames, result: QueryResult): Promise<CatalogPage> {
  const page: CatalogPage = { kits: [], options: [], skipped: [] };
  const allChildren: Record<string, unknown>[] = [];
  for (const raw of result.records) {
    const children = await childRecords(client, raw[objects.linkRelationship] as ChildPage | null);
    try {
      page.kits.push(kitSnapshot(raw, children, (why) => page.skipped.push(why)));
      allChildren.push(...(children ?? []));
    } catch (e) {
      page.skipped.push(`kit record ${String(raw.Id)} skipped: ${(e as Error).message.slice(0, 200)}`);
    }
  }
  page.options = optionsOfLinks(allChildren);
  return page;
}

/** Every kit of the org, one batch (≤2,000 rows) at a time. */
export async function* readAllKits(client: SalesforceClient, objects: ObjectNames): AsyncGenerator<CatalogPage> {
  let result = await client.get<QueryResult>(`/query?q=${encodeURIComponent(kitQuery(objects))}`);
  for (;;) {
    yield await toPage(client, objects, result);
    if (result.done || !result.nextRecordsUrl) return;
    result = await client.get<QueryResult>(result.nextRecordsUrl);
  }
}

/** The named kits as the org has them now; ids the org no longer has are simply absent. */
export async function readKits(client: SalesforceClient, objects: ObjectNames, ids: string[]): Promise<CatalogPage> {
  const merged: CatalogPage = { kits: [], options: [], skipped: [] };
  for (let i = 0; i < ids.length; i += 200) {
    let result = await client.get<QueryResult>(`/query?q=${encodeURIComponent(kitQuery(objects, `Id IN (${quoteIds(ids.slice(i, i + 200))})`))}`);
    for (;;) {
      const page = await toPage(client, objects, result);
      merged.kits.push(...page.kits);
      merged.options.push(...page.options);
      merged.skipped.push(...page.skipped);
      if (result.done || !result.nextRecordsUrl) break;
      result = await client.get<QueryResult>(result.nextRecordsUrl);
    }
  }
  return merged;
}

export async function readOptions(client: SalesforceClient, objects: ObjectNames, ids: string[]): Promise<{ options: OptionSnapshot[]; skipped: string[] }> {
  const out: { options: OptionSnapshot[]; skipped: string[] } = { options: [], skipped: [] };
  const result = await client.get<QueryResult>(`/query?q=${encodeURIComponent(optionQuery(objects, ids))}`);
  for (const r of result.records) {
    try {
      out.options.push(optionSnapshot(r));
    } catch (e) {
      out.skipped.push(`option record ${String(r.Id)} skipped: ${(e as Error).message.slice(0, 200)}`);
    }
  }
  return out;
}

/** Kit ids of junction rows, deleted ones included (queryAll reads the recycle bin). */
export async function kitsOfLinks(client: SalesforceClient, objects: ObjectNames, ids: string[]): Promise<string[]> {
  const result = await client.get<QueryResult>(`/queryAll?q=${encodeURIComponent(linkKitsQuery(objects, ids))}`);
  return [...new Set(result.records.map((r) => String(r.Test_Kit__c)).filter((v) => v && v !== 'null'))];
}

/** The org as the core's CatalogSource. */
export function salesforceCatalog(client: SalesforceClient, objects: ObjectNames): CatalogSource {
  return {
    readAllKits: () => readAllKits(client, objects),
    readKits: (ids) => readKits(client, objects, ids),
    readOptions: (ids) => readOptions(client, objects, ids),
    kitsOfLinks: (ids) => kitsOfLinks(client, objects, ids),
    get calls() {
      return client.calls;
    },
    apiUsage: () => client.apiUsage(),
  };
}
