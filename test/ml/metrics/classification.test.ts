import { describe, expect, it } from '@jest/globals';
import { classificationMetrics } from '../../../src/ml/metrics/classification.js';

const TOL = 9; // toBeCloseTo digits: |a - b| < 0.5e-9

function expectClose(actual: number, expected: number): void {
  expect(actual).toBeCloseTo(expected, TOL);
}

describe('classificationMetrics', () => {
  // scikit-learn classification_report docs example.
  // per class: tp = [1, 0, 2], predicted = [2, 1, 2], true = [1, 1, 3]
  it('matches the sklearn classification_report example', () => {
    const m = classificationMetrics([0, 1, 2, 2, 2], [0, 0, 2, 2, 1], ['class 0', 'class 1', 'class 2']);
    expect(m.confusionMatrix).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [0, 1, 2],
    ]);
    expectClose(m.accuracy, 3 / 5);
    expect(m.support).toBe(5);

    const c0 = m.perClass['class 0'];
    const c1 = m.perClass['class 1'];
    const c2 = m.perClass['class 2'];
    expectClose(c0.precision, 1 / 2);
    expectClose(c0.recall, 1);
    expectClose(c0.f1, 2 / 3);
    expect(c0.support).toBe(1);
    expect([c1.precision, c1.recall, c1.f1, c1.support]).toEqual([0, 0, 0, 1]);
    expectClose(c2.precision, 1);
    expectClose(c2.recall, 2 / 3);
    expectClose(c2.f1, 4 / 5);
    expect(c2.support).toBe(3);

    // docs: macro avg 0.50 0.56 0.49, weighted avg 0.70 0.60 0.61
    expectClose(m.macro.precision, (1 / 2 + 0 + 1) / 3);
    expectClose(m.macro.recall, (1 + 0 + 2 / 3) / 3); // 5/9
    expectClose(m.macro.f1, (2 / 3 + 0 + 4 / 5) / 3); // 22/45
    expectClose(m.weighted.precision, (1 * 1 / 2 + 1 * 0 + 3 * 1) / 5); // 7/10
    expectClose(m.weighted.recall, (1 * 1 + 1 * 0 + 3 * 2 / 3) / 5); // 3/5
    expectClose(m.weighted.f1, (1 * 2 / 3 + 0 + 3 * 4 / 5) / 5); // 46/75
  });

  it('uses zero_division=0 for a class that is never predicted', () => {
    // class b: true twice, never predicted -> precision 0/0 = 0, recall 0, f1 0
    const m = classificationMetrics([0, 1, 1, 0], [0, 0, 0, 0], ['a', 'b']);
    expect(m.perClass.b).toEqual({ precision: 0, recall: 0, f1: 0, support: 2 });
    expectClose(m.perClass.a.precision, 2 / 4);
    expectClose(m.perClass.a.recall, 1);
    expectClose(m.perClass.a.f1, (2 * 2) / (2 + 4)); // 2tp / (true + pred)
    expectClose(m.macro.precision, 1 / 4);
    expectClose(m.macro.recall, 1 / 2);
    expectClose(m.macro.f1, 1 / 3);
    expectClose(m.weighted.f1, (2 * (2 / 3) + 2 * 0) / 4);
    expectClose(m.accuracy, 1 / 2);
  });

  it('keeps a label with no true and no predicted samples in the macro mean, out of the weighted one', () => {
    // labels are given explicitly, so sklearn reports c with 0/0/0 and averages over 3 classes
    const m = classificationMetrics([0, 0, 1], [0, 1, 1], ['a', 'b', 'c']);
    expect(m.perClass.c).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(m.confusionMatrix).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
    // a: P 1, R 1/2, F 2/3 ; b: P 1/2, R 1, F 2/3
    expectClose(m.macro.precision, (1 + 1 / 2 + 0) / 3);
    expectClose(m.macro.recall, (1 / 2 + 1 + 0) / 3);
    expectClose(m.macro.f1, (2 / 3 + 2 / 3 + 0) / 3);
    expectClose(m.weighted.precision, (2 * 1 + 1 * (1 / 2)) / 3);
    expectClose(m.weighted.recall, (2 * (1 / 2) + 1 * 1) / 3);
    expectClose(m.weighted.f1, 2 / 3);
  });

  it('handles a class that is predicted but never true (precision 0, recall 0/0 = 0)', () => {
    const m = classificationMetrics([0, 0, 0], [0, 1, 1], ['a', 'b']);
    expect(m.perClass.b).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expectClose(m.perClass.a.precision, 1);
    expectClose(m.perClass.a.recall, 1 / 3);
    expectClose(m.perClass.a.f1, 2 / (3 + 1));
    expectClose(m.weighted.recall, 1 / 3); // support of b is 0, so it carries no weight
    expectClose(m.accuracy, 1 / 3);
  });

  it('scores a perfect prediction as 1 everywhere', () => {
    const m = classificationMetrics([2, 0, 1, 2], [2, 0, 1, 2], ['x', 'y', 'z']);
    expect(m.accuracy).toBe(1);
    expect(m.macro).toEqual({ precision: 1, recall: 1, f1: 1 });
    expect(m.weighted).toEqual({ precision: 1, recall: 1, f1: 1 });
  });

  it('computes f1 from counts, not from rounded precision/recall', () => {
    // 3 classes, 7 samples: tp=[2,1,1], pred=[3,2,2], true=[3,3,1]
    const m = classificationMetrics([0, 0, 0, 1, 1, 1, 2], [0, 0, 1, 1, 2, 0, 2], ['p', 'q', 'r']);
    expectClose(m.perClass.p.f1, (2 * 2) / (3 + 3));
    expectClose(m.perClass.q.f1, (2 * 1) / (3 + 2));
    expectClose(m.perClass.r.f1, (2 * 1) / (1 + 2));
    expectClose(m.weighted.f1, (3 * (4 / 6) + 3 * (2 / 5) + 1 * (2 / 3)) / 7);
    expectClose(m.accuracy, 4 / 7);
  });

  it('rejects bad input', () => {
    expect(() => classificationMetrics([0], [0, 1], ['a', 'b'])).toThrow(/1 samples but yPred has 2/);
    expect(() => classificationMetrics([], [], ['a'])).toThrow(/zero samples/);
    expect(() => classificationMetrics([0, 2], [0, 1], ['a', 'b'])).toThrow(/yTrue\[1\] = 2/);
    expect(() => classificationMetrics([0], [0.5], ['a', 'b'])).toThrow(/yPred\[0\]/);
    expect(() => classificationMetrics([0], [0], ['a', 'a'])).toThrow(/unique/);
  });
});
