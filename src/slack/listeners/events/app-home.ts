// App Home: rebuilt from the database each time the tab opens.
import type { App } from '@slack/bolt';
import { homeView } from '../../../../views/home.js';
import type { SlackDeps } from '../deps.js';

export async function publishHome(deps: SlackDeps, userId: string): Promise<void> {
  const { trainings: t, approvals } = deps.ctx.services;
  const isApprover = (await deps.approvers.approvers()).has(userId);
  const [trainings, waiting, active] = await Promise.all([t.recent(10), isApprover ? approvals.waitingFor(userId, 10) : Promise.resolve([]), t.activeModelsPerKit()]);
  await deps.client.views.publish({ user_id: userId, view: homeView({ trainings, waiting, active, isApprover }) });
}

export function registerAppHome(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab && event.tab !== 'home') return;
    await publishHome(deps, event.user);
  });
}
