// Step 2, options picked: label names come next when an option has none, else the dataset.
import { WIZARD_BLOCK } from '../../../../../views/wizard.js';
import { parseOptionsState } from '../../../wizard-state.js';
import { nextView, withSession, type Ack, type StepArgs, type WizardDeps } from './step.js';

export const optionsSubmitted = (deps: WizardDeps) => async ({ ack, body, view }: StepArgs) => {
  await withSession(deps, view, body.user.id, ack as Ack, WIZARD_BLOCK.options, async (s) => {
    const next = await deps.ctx.services.wizard.submitOptions(s, parseOptionsState(view.state.values).optionUids);
    await ack({ response_action: 'update', view: await nextView(s.id, next, deps.guideImages) });
  });
};
