// SOAP Outbound Messages (Flow or workflow): parsed with fast-xml-parser, never with regexes.
// One message holds up to 100 notifications, each one record of one object, fields only.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { InboundEvent } from '../services/ports/catalog-source.js';
import { catalogKindOf, fieldsProblem, OUTBOUND_FIELDS, type ObjectNames } from './catalog-records.js';

export const OUTBOUND_ACK =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>';

export class OutboundMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundMessageError';
  }
}

export interface OutboundMessage {
  organizationId: string;
  actionId: string | null;
  events: InboundEvent[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false, // Kit_Id__c "0042" must stay a string
  trimValues: true,
  isArray: (name) => name === 'Notification',
  processEntities: true,
});

const BOOLEAN = /^(true|false)$/;
const ID = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;

/** Field values as the REST API would give them: booleans as booleans, xsi:nil as null. */
function fieldsOf(sObject: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(sObject)) {
    // Only Salesforce API names: attributes (@...) and anything else are not fields.
    if (!FIELD_NAME.test(name)) continue;
    if (value && typeof value === 'object') {
      const v = value as Record<string, unknown>;
      out[name] = v['@nil'] === 'true' ? null : typeof v['#text'] === 'string' ? v['#text'] : null;
    } else if (typeof value === 'string') {
      out[name] = BOOLEAN.test(value) && /(__c|Active|Selectable)$/.test(name) && !/Id__c$/.test(name) ? value === 'true' : value;
    } else out[name] = value ?? null;
  }
  return out;
}

/** The parser's own refusals (nesting, entity expansion, reserved names like __proto__) are the sender's mistake. */
function parseXml(xml: string): Record<string, any> {
  if (!xml.trim()) throw new OutboundMessageError('malformed XML');
  try {
    if (XMLValidator.validate(xml) !== true) throw new OutboundMessageError('malformed XML');
    return parser.parse(xml) as Record<string, any>;
  } catch (e) {
    if (e instanceof OutboundMessageError) throw e;
    throw new OutboundMessageError(`malformed XML: ${String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 200)}`);
  }
}

export function parseOutboundMessage(xml: string): OutboundMessage {
  const doc = parseXml(xml);
  const notifications = doc?.Envelope?.Body?.notifications;
  if (!notifications || typeof notifications !== 'object') throw new OutboundMessageError('not an Outbound Message: no soapenv:Body/notifications');
  const organizationId = String(notifications.OrganizationId ?? '');
  if (!ID.test(organizationId)) throw new OutboundMessageError('OrganizationId is missing or invalid');
  const list = (notifications.Notification ?? []) as Record<string, any>[];
  if (list.length === 0) throw new OutboundMessageError('no Notification elements');
  if (list.length > 100) throw new OutboundMessageError('more than 100 notifications in one message');
  const events = list.map((n, i) => {
    const id = String(n?.Id ?? '');
    if (!ID.test(id)) throw new OutboundMessageError(`Notification ${i + 1}: Id is missing or invalid`);
    const sObject = n.sObject as Record<string, unknown> | undefined;
    const type = String(sObject?.['@type'] ?? '').replace(/^[^:]*:/, '');
    if (!sObject || !/^[A-Za-z][A-Za-z0-9_]*$/.test(type)) throw new OutboundMessageError(`Notification ${i + 1}: sObject with xsi:type is missing`);
    const fields = fieldsOf(sObject);
    const recordId = String(fields.Id ?? '');
    if (!ID.test(recordId)) throw new OutboundMessageError(`Notification ${i + 1}: sObject Id is missing or invalid`);
    const stamp = typeof fields.SystemModstamp === 'string' ? new Date(fields.SystemModstamp) : null;
    const event: InboundEvent = {
      key: `om:${id}`,
      source: 'outbound',
      entityName: type,
      changeType: 'UPSERT',
      recordIds: [recordId],
      commitTimestamp: stamp && !Number.isNaN(stamp.getTime()) ? stamp : null,
      payload: { notificationId: id, organizationId, actionId: notifications.ActionId ?? null, sObject: fields },
    };
    return event;
  });
  return { organizationId, actionId: typeof notifications.ActionId === 'string' ? notifications.ActionId : null, events };
}

/**
 * Why Assay could never apply this message, or null. Checked before anything is stored, so the
 * refusal shows in Salesforce's Outbound Message delivery status with the reason: another object
 * than the synced ones, or (no API credentials, so the fields are all Assay gets) missing fields.
 */
export function outboundProblem(message: OutboundMessage, objects: ObjectNames, apiConfigured: boolean): string | null {
  for (const [i, e] of message.events.entries()) {
    const kind = catalogKindOf(objects, e.entityName);
    if (!kind) return `Notification ${i + 1}: ${e.entityName} is not synced by Assay (only ${objects.kit}, ${objects.option} and ${objects.link})`;
    if (apiConfigured) continue;
    const problem = fieldsProblem(kind, (e.payload as { sObject: Record<string, unknown> }).sObject);
    if (problem) {
      return `Notification ${i + 1} (${e.entityName} ${e.recordIds[0]}): ${problem}. Without Salesforce API credentials the Outbound Message must send ${OUTBOUND_FIELDS[kind].join(', ')}`;
    }
  }
  return null;
}
