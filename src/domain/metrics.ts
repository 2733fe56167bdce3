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
]);

/** Accuracy, precision, recall, F1 (macro/weighted) and COCO mAP in their usual spellings. */
export function isQualityMetric(key: string): boolean {
  return QUALITY.has(key.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** Metrics as shown to people: `previous` keeps only the quality metrics (the ones compared). */
export function comparableMetrics(metrics: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!metrics || typeof metrics.previous !== 'object' || metrics.previous === null) return metrics;
  const previous = Object.fromEntries(Object.entries(metrics.previous as Record<string, unknown>).filter(([k]) => isQualityMetric(k)));
  return { ...metrics, previous };
}
