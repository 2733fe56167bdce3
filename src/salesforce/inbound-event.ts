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
