// What Salesforce pushes to Assay, built as the org would: a SOAP Outbound Message (a Flow's
// notifications) and a Change Data Capture event; and the two ways they reach Assay's webhooks.
import { signBody } from '../domain/signature.js';
import { postToAssay } from './post.js';

export interface NotificationSpec {
  id: string;
  type: string;
  fields: Record<string, string | boolean | null>;
}

let n = 0;
/** A fresh Outbound Message notification id. */
export const notificationId = () => `04l5e00000${String(++n).padStart(5, '0')}AAJ`;

export interface OutboundOptions {
  /** The Flow's outbound message action. */
  actionId?: string;
  /** The org's My Domain URL, in the Enterprise and Partner SOAP URLs. */
  instanceUrl?: string;
}

export function outboundMessage(orgId: string, notifications: NotificationSpec[], opts: OutboundOptions = {}): string {
  const { actionId = '04k5e000000CaRkAAK', instanceUrl = 'https://acme.my.salesforce.com' } = opts;
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const body = notifications
    .map(
      (n) => `
   <Notification>
    <Id>${n.id}</Id>
    <sObject xsi:type="sf:${n.type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
${Object.entries(n.fields)
  .map(([k, v]) => (v === null ? `     <sf:${k} xsi:nil="true"/>` : `     <sf:${k}>${esc(String(v))}</sf:${k}>`))
  .join('\n')}
    </sObject>
   </Notification>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>${orgId}</OrganizationId>
   <ActionId>${actionId}</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>${instanceUrl}/services/Soap/c/62.0/${orgId.slice(0, 15)}</EnterpriseUrl>
   <PartnerUrl>${instanceUrl}/services/Soap/u/62.0/${orgId.slice(0, 15)}</PartnerUrl>${body}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;
}

/** A change event body (the raw shape an Apex change-event trigger relays). */
export function cdcEvent(entityName: string, changeType: string, recordIds: string[], commitTimestamp = Date.now(), extra: Record<string, unknown> = {}) {
  return {
    ChangeEventHeader: {
      entityName,
      recordIds,
      changeType,
      changeOrigin: 'com/salesforce/api/soap/62.0;client=SfdcInternalAPI/',
      transactionKey: `tx-${Math.random().toString(36).slice(2)}`,
      sequenceNumber: 1,
      commitTimestamp,
      commitNumber: commitTimestamp * 10,
      commitUser: '005000000000001AAA',
    },
    ...extra,
  };
}

/** POSTs change events to Assay, signed with the webhook secret (`raw` sends a body as is). */
export async function postChangeEvents(baseUrl: string, body: unknown, opts: { secret: string; timestamp?: number; raw?: string }) {
  const raw = opts.raw ?? JSON.stringify(body);
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  return postToAssay(`${baseUrl}/webhooks/salesforce`, {
    headers: { 'content-type': 'application/json', 'x-assay-timestamp': ts, 'x-assay-signature': signBody(opts.secret, ts, raw) },
    body: raw,
  });
}

/** POSTs an Outbound Message to Assay's endpoint for `token`. */
export async function postOutbound(baseUrl: string, xml: string, token: string) {
  return postToAssay(`${baseUrl}/webhooks/salesforce/outbound/${token}`, { headers: { 'content-type': 'text/xml; charset=utf-8', SOAPAction: '""' }, body: xml });
}
