// The recurring clean-up jobs, run through the real Agenda worker on the real database.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Hyperparameters, SlackDelivery, WizardSession } from '../../src/db/entities/index.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { getOrCreateHyperparameters } from '../../src/services/hyperparameter-service.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let assay: TestAssay;
beforeAll(async () => {
  assay = await startTestAssay();
});
afterAll(async () => assay.stop());

describe('maintenance jobs', () => {
  it('wizard.expire expires abandoned wizards only', async () => {
    const m = assay.ctx.db.dataSource.manager;
    const old = await m.save(WizardSession, m.create(WizardSession, { userId: 'U1', expiresAt: new Date(Date.now() - 60_000) }));
    const fresh = await m.save(WizardSession, m.create(WizardSession, { userId: 'U2', expiresAt: new Date(Date.now() + 3600_000) }));
    await assay.ctx.queue.now(JOBS.wizardExpire, {});
    await waitFor('the abandoned wizard expired', async () => (await m.findOneByOrFail(WizardSession, { id: old.id })).status === 'expired');
    expect((await m.findOneByOrFail(WizardSession, { id: fresh.id })).status).toBe('open');
  });

  it('hyperparameters.gc deletes sets nothing uses', async () => {
    const m = assay.ctx.db.dataSource.manager;
    const hp = await getOrCreateHyperparameters(m, { epochs: 99, batchSize: 3, learningRate: 0.5, imageSize: 16 });
    await assay.ctx.queue.now(JOBS.hyperparametersGc, {});
    await waitFor('the unused hyperparameters deleted', async () => (await m.findOneBy(Hyperparameters, { uid: hp.uid })) === null);
  });

  it('slack.deliveries-gc forgets delivery keys older than a day', async () => {
    const m = assay.ctx.db.dataSource.manager;
    await m.insert(SlackDelivery, { deliveryKey: 'event:old', kind: 'event', receivedAt: new Date(Date.now() - 2 * 86400_000) });
    await m.insert(SlackDelivery, { deliveryKey: 'event:new', kind: 'event' });
    await assay.ctx.queue.now(JOBS.slackDeliveriesGc, {});
    await waitFor('the old delivery forgotten', async () => (await m.findOneBy(SlackDelivery, { deliveryKey: 'event:old' })) === null);
    expect(await m.findOneBy(SlackDelivery, { deliveryKey: 'event:new' })).not.toBeNull();
  });
});
