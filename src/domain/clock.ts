// Timestamps from outside (Salesforce's SystemModstamp, CDC commitTimestamp) order changes. One
// far in the future would make every later real change look older, freezing the record: such a
// timestamp is clamped to "now" (and the caller says so).

export interface Clamped {
  at: Date;
  /** The timestamp as given, when it was beyond the allowed skew. */
  future: Date | null;
}

export function clampFuture(at: Date, now: Date, maxSkewMs: number): Clamped {
  return at.getTime() > now.getTime() + maxSkewMs ? { at: now, future: at } : { at, future: null };
}
