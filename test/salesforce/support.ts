// Builders for what Salesforce sends, and small waits, shared by the kit-sync tests.
import { signBody } from '../../src/domain/signature.js';

export const WEBHOOK_SECRET = 'whsec-test-0123456789abcdef';
export const OUTBOUND_TOKEN = 'om-token-0123456789abcdef';

export async function postChangeEvents(baseUrl: string, body: unknown, opts: { secret?: string; timestamp?: number; raw?: string } = {}) {
  const raw = opts.raw ?? JSON.stringify(body);
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  return fetch(`${baseUrl}/webhooks/salesforce`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-assay-timestamp': ts, 'x-assay-signature': signBody(opts.secret ?? WEBHOOK_SECRET, ts, raw) },
    body: raw,
  });
}

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

export interface NotificationSpec {
  id: string;
  type: string;
  fields: Record<string, string | boolean | null>;
}

export function outboundMessage(orgId: string, notifications: NotificationSpec[]): string {
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
   <ActionId>04k5e000000CaRkAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00D5e000000KQ2e</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/00D5e000000KQ2e</PartnerUrl>${body}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;
}

export async function postOutbound(baseUrl: string, xml: string, token = OUTBOUND_TOKEN) {
  return fetch(`${baseUrl}/webhooks/salesforce/outbound/${token}`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', SOAPAction: '""' }, body: xml });
}

let n = 0;
export const notificationId = () => `04l5e00000${String(++n).padStart(5, '0')}AAJ`;
