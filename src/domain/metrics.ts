// Which evaluation metrics say how good a model is. Only these are compared with the previous
// version on the approval card; counts and speed (support, imagesPerSecond) are shown as they are.

const QUALITY = new Set([
  'accuracy',
  'balancedaccuracy',
  'precision',
  'recall',
  'f1',
  'macroprecision',
  'macrorecall',
  'macrof1',
  'weightedprecision',
  'weightedrecall',
  'weightedf1',
  'map',
  'map50',
  'map75',
  'map5095',
  'map05',
  'map0595',
  // A detector's COCO figures as the evaluation stores them (AP = mAP50-95, AP50 = mAP50, ...).
  'ap',
  'ap50',
  'ap75',
  'aps',
  'apm',
  'apl',
  'ar1',
  'ar10',
  'ar100',
  'ars',
  'arm',
  'arl',
]);

/** Of a detector's per-class figures, the ones compared (counts such as num_gt are not). */
const PER_CLASS_QUALITY = ['AP', 'AP50', 'AP75', 'AR100', 'precision', 'recall'];

/** Accuracy, precision, recall, F1 (macro/weighted) and COCO mAP in their usual spellings. */
export function isQualityMetric(key: string): boolean {
  return QUALITY.has(key.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** Metrics as shown to people: `previous` keeps only the quality metrics (the ones compared). */
export function comparableMetrics(metrics: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!metrics || typeof metrics.previous !== 'object' || metrics.previous === null) return metrics;
  const prev = metrics.previous as Record<string, unknown>;
  const previous: Record<string, unknown> = Object.fromEntries(Object.entries(prev).filter(([k]) => isQualityMetric(k)));
  // Which version it was (said on the card) and a detector's per-class quality figures.
  if (typeof prev.modelVersion === 'number') previous.modelVersion = prev.modelVersion;
  if (prev.per_class && typeof prev.per_class === 'object') {
    previous.per_class = Object.fromEntries(Object.entries(prev.per_class as Record<string, Record<string, unknown>>).map(([name, c]) => [
      name, Object.fromEntries(PER_CLASS_QUALITY.filter((k) => typeof c?.[k] === 'number').map((k) => [k, c[k]])),
    ]));
  }
  return { ...metrics, previous };
}
