import { describe, expect, it } from '@jest/globals';
import { deliveryKey } from '../../src/slack/dedupe.js';

describe('Slack delivery identity', () => {
  it('a corrected resubmission after field errors is a new delivery; a replay is not', () => {
    const view = { id: 'V1', hash: 'h1' };
    const first = deliveryKey({ type: 'view_submission', trigger_id: 't1', view });
    const corrected = deliveryKey({ type: 'view_submission', trigger_id: 't2', view }); // errors leave the hash unchanged
    expect(corrected!.key).not.toBe(first!.key);
    expect(deliveryKey({ type: 'view_submission', trigger_id: 't1', view })!.key).toBe(first!.key);
  });
  it('events are identified by event_id; commands are never deduped', () => {
    expect(deliveryKey({ type: 'event_callback', event_id: 'Ev1' })).toEqual({ key: 'event:Ev1', kind: 'event' });
    expect(deliveryKey({ command: '/assay' })).toBeNull();
  });
});
