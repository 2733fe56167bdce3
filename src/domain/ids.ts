// Row ids are uuids; anything else a user or a payload names is "not found" before it reaches SQL
// (PostgreSQL would answer an invalid uuid with an error, not an empty result).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
