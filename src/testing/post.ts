// How the fakes and the test helpers send requests to Assay, like Slack and Salesforce do.

/**
 * fetch, once more when the connection was reset: a keep-alive socket the server closed while
 * the machine was busy fails with ECONNRESET. Slack and Salesforce redeliver too, and Assay
 * de-duplicates every delivery (slack_deliveries, salesforce_events keys), so a repeat is safe.
 */
export async function postToAssay(url: string, init: RequestInit): Promise<Response> {
  const send = () => fetch(url, { method: 'POST', ...init });
  return send().catch((e: { cause?: { code?: string } }) => {
    if (e?.cause?.code === 'ECONNRESET' || e?.cause?.code === 'UND_ERR_SOCKET') return send();
    throw e;
  });
}
