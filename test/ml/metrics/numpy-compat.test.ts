import { describe, expect, it } from '@jest/globals';
import { linspace, npMean, npSum, pairwiseSum, pyFixed } from '../../../src/ml/metrics/numpy-compat.js';
import { IOU_THRESHOLDS, REC_THRESHOLDS } from '../../../src/ml/metrics/coco-types.js';

describe('linspace', () => {
  it('reproduces numpy float values for the COCO IoU thresholds', () => {
    // repr() of np.linspace(.5, 0.95, 10) under numpy
    expect(IOU_THRESHOLDS).toEqual([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95]);
  });

  it('reproduces numpy float values for the 101 recall thresholds', () => {
    expect(REC_THRESHOLDS).toHaveLength(101);
    expect(REC_THRESHOLDS[0]).toBe(0);
    expect(REC_THRESHOLDS[100]).toBe(1);
    // the entries where i*0.01 is not the shortest decimal, as printed by numpy
    expect(REC_THRESHOLDS[35]).toBe(0.35000000000000003);
    expect(REC_THRESHOLDS[57]).toBe(0.5700000000000001);
    expect(REC_THRESHOLDS[95]).toBe(0.9500000000000001);
    expect(REC_THRESHOLDS[7]).toBe(0.07);
  });

  it('handles degenerate sizes', () => {
    expect(linspace(0, 1, 0)).toEqual([]);
    expect(linspace(3, 7, 1)).toEqual([3]);
    expect(linspace(2, 2, 3)).toEqual([2, 2, 2]);
  });
});

describe('pairwise summation', () => {
  it('equals a plain sum for small arrays', () => {
    expect(pairwiseSum([1, 2, 3], 0, 3)).toBe(6);
    expect(npMean([1, 2, 3, 4])).toBe(2.5);
  });

  it('differs from naive left-to-right summation the way numpy does', () => {
    const xs = Array.from({ length: 1000 }, () => 0.1);
    let naive = 0;
    for (const x of xs) naive += x;
    // numpy: np.full(1000, 0.1).sum() == 100.00000000000001 (naive gives 99.9999999999986)
    expect(npSum(xs)).toBe(100.00000000000001);
    expect(naive).not.toBe(npSum(xs));
  });
});

describe('pyFixed', () => {
  it('rounds exact ties to even like Python format()', () => {
    expect(pyFixed(0.0625, 3)).toBe('0.062');
    expect(pyFixed(0.5625, 3)).toBe('0.562');
    expect(pyFixed(0.1875, 3)).toBe('0.188');
    expect(pyFixed(0.125, 2)).toBe('0.12');
  });

  it('otherwise matches toFixed', () => {
    expect(pyFixed(-1, 3)).toBe('-1.000');
    expect(pyFixed(0.5036473243630208, 3)).toBe('0.504');
    expect(pyFixed(0.0004, 3)).toBe('0.000');
    expect(pyFixed(0.95, 2)).toBe('0.95');
  });
});
