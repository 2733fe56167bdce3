// External-select search for kits (catalogs over 100): answered from the synced table, ≤100 options.
import type { App } from '@slack/bolt';
import { KIT_SEARCH_ACTION, kitOption } from '../../../../views/wizard.js';
import type { SlackDeps } from '../deps.js';

export function registerKitOptions(app: App, deps: SlackDeps): void {
  app.options(KIT_SEARCH_ACTION, async ({ options, ack }) => {
    const kits = await deps.ctx.services.catalog.searchKits(String(options.value ?? ''));
    await ack({ options: kits.map(kitOption) });
  });
}
