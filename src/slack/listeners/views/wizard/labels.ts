// Step 3, label names given (saved for everyone): the dataset step comes next.
import { slackUser } from '../../../../services/audit.js';
import { parseLabelsState } from '../../../wizard-state.js';
import { nextView, withSession, type Ack, type StepArgs, type WizardDeps } from './step.js';

export const labelsSubmitted = (deps: WizardDeps) => async ({ ack, body, view }: StepArgs) => {
  // Not a block: errors without a field go under the first label input.
  await withSession(deps, view, body.user.id, ack as Ack, 'labels', async (s) => {
    const { labels } = parseLabelsState(view.state.values);
    const next = await deps.ctx.services.wizard.submitLabels(s, labels, slackUser(body.user.id));
    await ack({ response_action: 'update', view: await nextView(s.id, next, deps.guideImages) });
  });
};
