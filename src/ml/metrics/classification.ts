// Classification metrics with scikit-learn's exact definitions: accuracy_score,
// confusion_matrix and precision_recall_fscore_support(labels=all, zero_division=0)
// with average='macro' / 'weighted'.
import { npMean, npSum } from './numpy-compat.js';

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassMetrics extends PrecisionRecallF1 {
  /** Number of true samples of this class. */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  macro: PrecisionRecallF1;
  weighted: PrecisionRecallF1;
  perClass: Record<string, ClassMetrics>;
  /** confusionMatrix[trueClass][predictedClass], in `labels` order. */
  confusionMatrix: number[][];
  /** Total number of samples. */
  support: number;
}

/** sklearn's _prf_divide with zero_division=0. */
const divide = (num: number, den: number): number => (den === 0 ? 0 : num / den);

/**
 * @param yTrue true class index per sample (index into `labels`)
 * @param yPred predicted class index per sample
 * @param labels class names; every label is reported and averaged, even if absent
 */
export function classificationMetrics(
  yTrue: readonly number[],
  yPred: readonly number[],
  labels: readonly string[],
): ClassificationMetrics {
  if (yTrue.length !== yPred.length) {
    throw new Error(`yTrue has ${yTrue.length} samples but yPred has ${yPred.length}`);
  }
  if (yTrue.length === 0) throw new Error('cannot compute classification metrics of zero samples');
  if (new Set(labels).size !== labels.length) throw new Error('labels must be unique');
  const L = labels.length;
  const check = (v: number, i: number, name: string): void => {
    if (!Number.isInteger(v) || v < 0 || v >= L) {
      throw new Error(`${name}[${i}] = ${v} is not a class index in [0, ${L - 1}]`);
    }
  };
  yTrue.forEach((v, i) => check(v, i, 'yTrue'));
  yPred.forEach((v, i) => check(v, i, 'yPred'));

  const cm = Array.from({ length: L }, () => new Array<number>(L).fill(0));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    cm[yTrue[i]][yPred[i]]++;
    if (yTrue[i] === yPred[i]) correct++;
  }

  const precision = new Float64Array(L);
  const recall = new Float64Array(L);
  const f1 = new Float64Array(L);
  const trueSum = new Float64Array(L);
  const perClass: Record<string, ClassMetrics> = {};
  for (let c = 0; c < L; c++) {
    const tp = cm[c][c];
    let predSum = 0;
    for (let r = 0; r < L; r++) predSum += cm[r][c];
    trueSum[c] = cm[c].reduce((s, v) => s + v, 0);
    precision[c] = divide(tp, predSum);
    recall[c] = divide(tp, trueSum[c]);
    // sklearn >= 1.3 computes F from counts: (1+b^2)tp / (b^2*true + pred), not from P and R.
    f1[c] = divide(2 * tp, trueSum[c] + predSum);
    perClass[labels[c]] = { precision: precision[c], recall: recall[c], f1: f1[c], support: trueSum[c] };
  }

  // np.average(x, weights=w) = sum(x*w) / sum(w)
  const totalWeight = npSum(trueSum);
  const weightedAvg = (x: Float64Array): number =>
    divide(npSum(x.map((v, i) => v * trueSum[i])), totalWeight);

  return {
    accuracy: correct / yTrue.length,
    macro: { precision: npMean(precision), recall: npMean(recall), f1: npMean(f1) },
    weighted: { precision: weightedAvg(precision), recall: weightedAvg(recall), f1: weightedAvg(f1) },
    perClass,
    confusionMatrix: cm,
    support: yTrue.length,
  };
}
