import { describe, expect, it } from '@jest/globals';
import { assertTransition, canTransition, IllegalTransitionError, sourcesOf } from '../../src/domain/index.js';

describe('the state machines of the other stateful tables', () => {
  it('datasets: validated once, again after a retry or a duplicate job, never out of invalid', () => {
    for (const [from, to] of [['pending', 'validating'], ['pending', 'invalid'], ['validating', 'validating'], ['validating', 'valid'], ['validating', 'invalid'], ['valid', 'validating']] as const) assertTransition('dataset', from, to);
    expect(canTransition('dataset', 'pending', 'valid')).toBe(false);
    expect(canTransition('dataset', 'invalid', 'validating')).toBe(false);
    expect(() => assertTransition('dataset', 'invalid', 'valid')).toThrow(new IllegalTransitionError('dataset', 'invalid', 'valid'));
  });

  it('evaluations: running to completed or failed, then final', () => {
    for (const [from, to] of [['queued', 'running'], ['running', 'completed'], ['running', 'failed']] as const) assertTransition('evaluation', from, to);
    expect(canTransition('evaluation', 'completed', 'failed')).toBe(false);
    expect(canTransition('evaluation', 'failed', 'running')).toBe(false);
  });

  it('kits, options and activations go both ways, never to the state they are in', () => {
    assertTransition('kit', 'active', 'archived');
    assertTransition('kit', 'archived', 'active');
    assertTransition('option', 'active', 'inactive');
    assertTransition('activation', 'inactive', 'active');
    expect(canTransition('kit', 'archived', 'archived')).toBe(false);
    expect(canTransition('activation', 'active', 'active')).toBe(false);
  });

  it('Salesforce events leave received once', () => {
    for (const to of ['applied', 'ignored', 'failed'] as const) assertTransition('salesforce_event', 'received', to);
    expect(canTransition('salesforce_event', 'applied', 'failed')).toBe(false);
    expect(() => assertTransition('salesforce_event', 'ignored', 'received')).toThrow(IllegalTransitionError);
  });

  it('wizard sessions: open until submitted, expired or cancelled; a submit may finish after the sweep', () => {
    for (const to of ['submitted', 'expired', 'cancelled'] as const) assertTransition('wizard_session', 'open', to);
    assertTransition('wizard_session', 'expired', 'submitted');
    expect(canTransition('wizard_session', 'submitted', 'open')).toBe(false);
    expect(canTransition('wizard_session', 'cancelled', 'submitted')).toBe(false);
  });

  it('sync runs: queued, running, then an end; an abandoned run may still record its real end', () => {
    for (const [from, to] of [['queued', 'running'], ['running', 'running'], ['running', 'queued'], ['running', 'completed'], ['queued', 'failed'], ['failed', 'completed']] as const) assertTransition('sync_run', from, to);
    expect(canTransition('sync_run', 'completed', 'running')).toBe(false);
    expect(canTransition('sync_run', 'queued', 'completed')).toBe(false);
  });

  it('sourcesOf lists the states a move may start from (the guard of a bulk update)', () => {
    expect(sourcesOf('wizard_session', 'expired')).toEqual(['open']);
    expect(sourcesOf('kit', 'archived')).toEqual(['active']);
    expect(sourcesOf('sync_run', 'running')).toEqual(['queued', 'running']);
    expect(sourcesOf('dataset', 'validating')).toEqual(['pending', 'validating', 'valid']);
    expect(sourcesOf('training', 'queued')).toEqual(['validating']);
  });

  it('a status of another machine does not compile (and is refused at run time)', () => {
    // @ts-expect-error 'submitted' is a wizard session status, not a dataset one
    expect(canTransition('dataset', 'pending', 'submitted')).toBe(false);
  });
});
