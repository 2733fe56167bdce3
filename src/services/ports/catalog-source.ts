// The catalog as the core sees it (a port): kits, AI options and their links as plain snapshots,
// the events that say they changed, and where to read them. salesforce/ implements it (the org's
// REST API, and the fields an Outbound Message carries); services never import salesforce/.

// An event as Assay stores it in salesforce_events, whichever way it arrived.
export type EventSource = 'cdc' | 'outbound';

export interface InboundEvent {
  key: string;
  source: EventSource;
  entityName: string | null;
  changeType: string | null;
  recordIds: string[];
  /** When the change happened in the org (CDC commitTimestamp, or the record's SystemModstamp). */
  commitTimestamp: Date | null;
  payload: Record<string, unknown>;
  /** Set when the event is kept for the record but must not be applied (e.g. caused by Assay). */
  ignoredReason?: string;
}

export interface OptionSnapshot {
  sfId: string;
  key: string;
  description: string | null;
  labelName: string | null;
  selectable: boolean;
  exampleImageUrl: string | null;
  active: boolean;
  modstamp: Date | null;
}

export interface LinkSnapshot {
  sfId: string;
  optionKey: string;
  selectable: boolean;
}

export interface KitSnapshot {
  sfId: string;
  kitId: string;
  name: string;
  active: boolean;
  modstamp: Date;
  /** null: the source did not say (an Outbound Message) — leave the kit's links as they are. */
  links: LinkSnapshot[] | null;
}

/** A junction record's own fields (its Outbound Message): enough to link without the API. */
export interface LinkMessageSnapshot {
  sfId: string;
  kitSfId: string;
  optionSfId: string;
  /** From Unique_Key__c (`kitId:optionKey`), when sent: finds kits/options Assay knows by business key only. */
  kitId: string | null;
  optionKey: string | null;
  selectable: boolean;
  modstamp: Date;
}

export type CatalogKind = 'kit' | 'option' | 'link';

export interface CatalogPage {
  kits: KitSnapshot[];
  options: OptionSnapshot[];
  skipped: string[];
}

/** Rate limit or an org outage: try again later; the job is rescheduled with backoff. */
export class RetryableSalesforceError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'RetryableSalesforceError';
  }
}

export class SalesforceNotConfiguredError extends Error {
  constructor() {
    super('Salesforce API not configured');
    this.name = 'SalesforceNotConfiguredError';
  }
}

/** Where the catalog is read from (the org's API); absent when no API credentials are configured. */
export interface CatalogSource {
  /** Every kit, one page at a time. */
  readAllKits(): AsyncGenerator<CatalogPage>;
  /** The named kits as the source has them now; ids it no longer has are absent. */
  readKits(ids: string[]): Promise<CatalogPage>;
  readOptions(ids: string[]): Promise<{ options: OptionSnapshot[]; skipped: string[] }>;
  /** Kit ids of link records, deleted ones included. */
  kitsOfLinks(ids: string[]): Promise<string[]>;
  /** API calls made so far, and the org's own usage figure when it sent one. */
  readonly calls: number;
  apiUsage(): { used: number; limit: number } | undefined;
}

/** A record's own fields (an Outbound Message) read as snapshots: the no-code path, no API. */
export interface CatalogRecords {
  /** Why the fields cannot be applied, or null when they can. */
  fieldsProblem(kind: CatalogKind, fields: Record<string, unknown>): string | null;
  requiredFields(kind: CatalogKind): readonly string[];
  kit(fields: Record<string, unknown>): KitSnapshot;
  option(fields: Record<string, unknown>): OptionSnapshot;
  link(fields: Record<string, unknown>): LinkMessageSnapshot;
}
