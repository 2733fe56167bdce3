// Longest accepted value of every field people type (Slack modals and commands). Each is enforced
// by the service that takes the value (a ValidationError naming the field) and said in the modal
// (Slack's max_length, or the hint where Slack has none): one table, so the two never disagree.
import { ValidationError } from './errors.js';

export const FIELD_LIMITS = {
  /** Reject reason (the approval's comment). */
  reason: 1000,
  datasetName: 100,
  labelName: 100,
  /** Dataset URL. */
  url: 2000,
  /** A lineage's name starts every model name (<name>_<training id>_v<n>). */
  lineageName: 40,
  /** A kit search (/assay kits, the kit picker). */
  search: 100,
  /** The whole text after /assay. */
  command: 1000,
} as const;

export type LimitedField = keyof typeof FIELD_LIMITS;

/** Characters as people count them (code points), not UTF-16 units. */
export const textLength = (value: string): number => [...value].length;

/** The value if within its field's cap, else a ValidationError for `field` (the form block) saying the cap. */
export function checkLength(value: string, limit: LimitedField, field: string, label: string): string {
  const max = FIELD_LIMITS[limit];
  // Cheap first: UTF-16 length is never below the code point count.
  if (value.length > max && textLength(value) > max) {
    throw new ValidationError(`${label} can be at most ${max} characters (this one has ${textLength(value)})`, field);
  }
  return value;
}

/** A byte count as people read it in a limit message: "0.7 MB", "36 MB". */
export function formatMegabytes(n: number): string {
  const m = n / 1024 / 1024;
  return `${m < 10 ? m.toFixed(1) : m.toFixed(0)} MB`;
}
