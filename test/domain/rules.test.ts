// Domain rules are plain functions: they read like the design and run in milliseconds.
import { describe, expect, it } from '@jest/globals';
import {
  assertTransition, canonicalJson, checkAccess, checkApproverAction, checkCancelTraining, isSelectableKitOption, decideVersion, fingerprint, generateDatasetName, IllegalTransitionError,
  lineageKey, modelName, suggestLineageName, validateLineageName, planActivation, trainingIdFor, uniqueDatasetName, validateDatasetName, ValidationError,
} from '../../src/domain/index.js';

const A = '0b3c7f0e-0000-4000-8000-00000000000a';
const B = '0b3c7f0e-0000-4000-8000-00000000000b';
const C = '0b3c7f0e-0000-4000-8000-00000000000c';

describe('lineage', () => {
  it('kits sharing a label space share a lineage, whatever the order or duplicates', () => {
    expect(lineageKey([A, B, C])).toBe(lineageKey([C, A, B, A]));
    expect(lineageKey([A.toUpperCase(), B])).toBe(lineageKey([A, B]));
  });
  it('a different option set gives a different lineage', () => {
    expect(lineageKey([A, B])).not.toBe(lineageKey([A, B, C]));
    expect(trainingIdFor(lineageKey([A, B]))).not.toBe(trainingIdFor(lineageKey([A, C])));
  });
  it('refuses an empty option set', () => {
    expect(() => lineageKey([])).toThrow(ValidationError);
  });
  it('training ids are short and stable; names follow <name>_<training_id>_v<version>', () => {
    const id = trainingIdFor(lineageKey([A, B]));
    expect(id).toMatch(/^[a-z0-9]{12}$/);
    // Named by what the lineage serves (its options), not after one of its kits; editable, checked.
    expect(suggestLineageName(['red_light', 'green_light', 'yellow_light'])).toBe('green_light_red_light_yellow_light');
    expect(suggestLineageName(['shape_circle', 'shape_square', 'shape_star', 'shape_cross'])).toBe('shape_circle_shape_cross_and_2_more');
    expect(validateLineageName(' traffic_lights ')).toBe('traffic_lights');
    expect(() => validateLineageName('Traffic lights!')).toThrow(ValidationError);
    expect(modelName('pr_urine', id, 3)).toBe(`pr_urine_${id}_v3`);
    expect(() => modelName('x', id, 0)).toThrow(ValidationError);
  });
});

describe('dataset names', () => {
  const on = new Date('2026-11-23T10:00:00Z');
  it('are deterministic and valid', () => {
    const a = generateDatasetName({ kitNames: ['PR urine', 'PR DNA urine'], optionNames: ['red_light', 'green_light'], trainingId: 'l0123456789a', on });
    const b = generateDatasetName({ kitNames: ['PR DNA urine', 'PR urine'], optionNames: ['green_light', 'red_light'], trainingId: 'l0123456789a', on });
    expect(a).toBe(b);
    expect(a).toBe('pr_dna_urine_pr_urine-green_light_red_light-l0123456789a-20261123');
    expect(validateDatasetName(a)).toBe(a);
  });
  it('stay unique by suffixing', () => {
    expect(uniqueDatasetName('ds', new Set())).toBe('ds');
    expect(uniqueDatasetName('ds', new Set(['ds', 'ds-2']))).toBe('ds-3');
  });
  it('an edited name must still be valid', () => {
    expect(() => validateDatasetName('Has Spaces')).toThrow(ValidationError);
    expect(() => validateDatasetName('x'.repeat(101))).toThrow(/at most 100/);
  });
});

describe('version decision', () => {
  const latest = { id: 'm1', modelVersion: 2, status: 'deployed' };
  it('a lineage without a model trains a new one', () => {
    expect(decideVersion(null, undefined)).toEqual({ action: 'train', mode: 'new', baseModelId: null });
    expect(() => decideVersion(null, 'new_version')).toThrow(ValidationError);
  });
  it('with a model: skip maps to it, new version fine-tunes it, retrain starts over', () => {
    expect(decideVersion(latest, 'skip')).toEqual({ action: 'skip', existingModelId: 'm1' });
    expect(decideVersion(latest, 'new_version')).toEqual({ action: 'train', mode: 'new_version', baseModelId: 'm1' });
    expect(decideVersion(latest, 'retrain')).toEqual({ action: 'train', mode: 'retrain', baseModelId: null });
    expect(() => decideVersion(latest, undefined)).toThrow(/choose skip, new version or retrain/);
  });
});

describe('hyperparameter fingerprints', () => {
  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
  });
  it('equal settings have equal fingerprints; any change gives another', () => {
    expect(fingerprint({ epochs: 1, lr: 0.1 })).toBe(fingerprint({ lr: 0.1, epochs: 1 }));
    expect(fingerprint({ epochs: 1, lr: 0.1 })).not.toBe(fingerprint({ epochs: 2, lr: 0.1 }));
    expect(() => fingerprint({ lr: NaN })).toThrow(TypeError);
  });
});

describe('state machines', () => {
  it('allow the designed paths', () => {
    for (const [from, to] of [['queued', 'validating'], ['validating', 'training'], ['training', 'trained'], ['training', 'cancelled']] as const) assertTransition('training', from, to);
    for (const [from, to] of [['draft', 'evaluating'], ['evaluating', 'pending_approval'], ['pending_approval', 'approved'], ['approved', 'deployed'], ['deployed', 'deprecated']] as const) assertTransition('model', from, to);
    for (const [from, to] of [['pending', 'downloading'], ['downloading', 'installing'], ['installing', 'completed'], ['failed', 'pending']] as const) assertTransition('deployment', from, to);
  });
  it('refuse illegal transitions naming both states', () => {
    expect(() => assertTransition('model', 'pending_approval', 'deployed')).toThrow(new IllegalTransitionError('model', 'pending_approval', 'deployed'));
    expect(() => assertTransition('model', 'draft', 'deployed')).toThrow('model cannot go from "draft" to "deployed"');
    expect(() => assertTransition('training', 'trained', 'training')).toThrow(/"trained" to "training"/);
    expect(() => assertTransition('deployment', 'rolled_back', 'completed')).toThrow(IllegalTransitionError);
  });
});

describe('permissions', () => {
  const approvers = new Set(['UAPP1', 'UAPP2']);
  it('only approvers act, and never on their own training', () => {
    expect(checkApproverAction({ actor: 'UX', action: 'approve', approvers })).toMatchObject({ allowed: false });
    expect(checkApproverAction({ actor: 'UAPP1', action: 'approve', approvers, requestedBy: 'UAPP1' })).toMatchObject({ allowed: false, reason: expect.stringMatching(/requested this training/) });
    expect(checkApproverAction({ actor: 'UAPP1', action: 'deploy', approvers, requestedBy: 'UAPP1' })).toEqual({ allowed: true });
    expect(checkApproverAction({ actor: 'UAPP2', action: 'approve', approvers, requestedBy: 'UAPP1' })).toEqual({ allowed: true });
    expect(checkApproverAction({ actor: 'UX', action: 'sync', approvers })).toEqual({ allowed: false, reason: expect.stringMatching(/^Only approvers can start a Salesforce sync/) });
  });
  it('a training is cancelled by its requester, an approver, or an operator at the CLI', () => {
    const slack = (id: string) => ({ type: 'slack_user', id });
    expect(checkCancelTraining({ actor: slack('UREQ'), requestedBy: 'UREQ', approvers })).toEqual({ allowed: true });
    expect(checkCancelTraining({ actor: slack('UAPP1'), requestedBy: 'UREQ', approvers })).toEqual({ allowed: true });
    expect(checkCancelTraining({ actor: { type: 'cli', id: 'ops' }, requestedBy: 'UREQ', approvers })).toEqual({ allowed: true });
    expect(checkCancelTraining({ actor: slack('UX'), requestedBy: 'UREQ', approvers })).toMatchObject({ allowed: false });
    expect(checkCancelTraining({ actor: { type: 'edge', id: 'UREQ' }, requestedBy: 'UREQ', approvers })).toMatchObject({ allowed: false });
  });
  it('one decision for every privileged action: approver actions are Slack approvers only', () => {
    const slack = (id: string) => ({ type: 'slack_user', id });
    for (const action of ['approve', 'reject', 'deploy', 'rollback', 'sync'] as const) {
      expect(checkAccess({ actor: slack('UAPP1'), action, approvers, requestedBy: 'UREQ' })).toEqual({ allowed: true });
      expect(checkAccess({ actor: slack('UX'), action, approvers })).toMatchObject({ allowed: false });
      // An operator at the CLI whose login happens to be an approver's Slack id is still not one.
      expect(checkAccess({ actor: { type: 'cli', id: 'UAPP1' }, action, approvers })).toMatchObject({ allowed: false });
      // An operator named in the approver list as `cli:<login>` is one.
      expect(checkAccess({ actor: { type: 'cli', id: 'ops' }, action, approvers: new Set(['cli:ops']) })).toEqual({ allowed: true });
    }
    expect(checkAccess({ actor: slack('UAPP1'), action: 'approve', approvers, requestedBy: 'UAPP1' })).toMatchObject({ allowed: false });
    expect(checkAccess({ actor: slack('UREQ'), action: 'cancel', approvers, requestedBy: 'UREQ' })).toEqual({ allowed: true });
    expect(checkAccess({ actor: slack('UX'), action: 'cancel', approvers, requestedBy: 'UREQ' })).toMatchObject({ allowed: false });
    // Importing is like starting a training: any team member; never a machine.
    expect(checkAccess({ actor: slack('UX'), action: 'import', approvers })).toEqual({ allowed: true });
    expect(checkAccess({ actor: { type: 'cli', id: 'ops' }, action: 'import', approvers })).toEqual({ allowed: true });
    for (const type of ['system', 'edge', 'trainer', 'salesforce']) expect(checkAccess({ actor: { type, id: 'x' }, action: 'import', approvers })).toMatchObject({ allowed: false });
  });
});

describe('selectable kit options', () => {
  it('need an active kit, a selectable link and a selectable, active option', () => {
    const all = { kitActive: true, linkSelectable: true, optionSelectable: true, optionActive: true };
    expect(isSelectableKitOption(all)).toBe(true);
    for (const k of Object.keys(all)) expect(isSelectableKitOption({ ...all, [k]: false })).toBe(false);
  });
});

describe('activation plans', () => {
  const k = (t: string, o: string) => ({ testTypeId: t, aiOptionUid: o });
  it('remember what each option ran before', () => {
    const steps = planActivation('new', [k('t1', 'o1'), k('t1', 'o2'), k('t1', 'o1')], [{ ...k('t1', 'o1'), modelId: 'old', previousModelId: 'older' }]);
    expect(steps).toEqual([
      { ...k('t1', 'o1'), previousModelId: 'old', changes: true },
      { ...k('t1', 'o2'), previousModelId: null, changes: true },
    ]);
  });
  it('activating the active model again changes nothing', () => {
    expect(planActivation('m', [k('t', 'o')], [{ ...k('t', 'o'), modelId: 'm', previousModelId: 'p' }])).toEqual([{ ...k('t', 'o'), previousModelId: 'p', changes: false }]);
  });
});
