// Step 1, kits picked: the options of those kits come next.
import { optionsView, WIZARD_BLOCK } from '../../../../../views/wizard.js';
import { parseKitsState } from '../../../wizard-state.js';
import { withSession, type Ack, type StepArgs, type WizardDeps } from './step.js';

export const kitsSubmitted = (deps: WizardDeps) => async ({ ack, body, view }: StepArgs) => {
  await withSession(deps, view, body.user.id, ack as Ack, WIZARD_BLOCK.kits, async (s) => {
    const { options } = await deps.ctx.services.wizard.submitKits(s, parseKitsState(view.state.values).kitIds);
    await ack({ response_action: 'update', view: optionsView({ sessionId: s.id, options }) });
  });
};
