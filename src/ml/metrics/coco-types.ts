// Shapes of COCO inputs/outputs and the fixed COCOeval parameters (iouType 'bbox').
import { linspace } from './numpy-compat.js';

export type CocoId = number | string;

export interface CocoImage {
  id: CocoId;
  [extra: string]: unknown;
}

export interface CocoAnnotation {
  id: number;
  image_id: CocoId;
  category_id: CocoId;
  /** [x, y, width, height] */
  bbox: readonly number[];
  /** Size buckets use this field, not w*h (as pycocotools does). */
  area: number;
  /** pycocotools requires it; we treat a missing flag as 0. */
  iscrowd?: number | boolean;
  [extra: string]: unknown;
}

export interface CocoCategory {
  id: CocoId;
  name?: string;
  [extra: string]: unknown;
}

export interface CocoGroundTruth {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  [extra: string]: unknown;
}

/** One entry of a COCO "results" file. */
export interface CocoDetection {
  image_id: CocoId;
  category_id: CocoId;
  bbox: readonly number[];
  score: number;
  [extra: string]: unknown;
}

export interface CocoStats {
  AP: number;
  AP50: number;
  AP75: number;
  APs: number;
  APm: number;
  APl: number;
  AR1: number;
  AR10: number;
  AR100: number;
  ARs: number;
  ARm: number;
  ARl: number;
}

export const STAT_KEYS = [
  'AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl',
] as const satisfies readonly (keyof CocoStats)[];

export interface CocoClassResult {
  id: CocoId;
  name: string;
  /** Ground-truth boxes of this class that were evaluated (crowd included). */
  numGt: number;
  numDets: number;
  AP: number;
  AP50: number;
  AP75: number;
  AR100: number;
}

export interface MatchCounts {
  TP: number;
  FP: number;
  FN: number;
  precision: number;
  recall: number;
  F1: number;
}

/** TP/FP/FN from pycocotools' own matching (area 'all', maxDets 100) at one IoU and score cut. */
export interface MatchCountsAt {
  iouThreshold: number;
  scoreThreshold: number;
  micro: MatchCounts;
  perClass: Record<string, MatchCounts>;
}

export interface CocoEvalResult {
  stats: CocoStats;
  /** Keyed by String(category id). */
  perClass: Record<string, CocoClassResult>;
  /** Keyed like "iou0.50_score>=0.75". */
  matchCounts: Record<string, MatchCountsAt>;
  numImages: number;
  numCategories: number;
}

export interface CocoEvalOptions {
  /** Score cuts for matchCounts; default [0, 0.5, 0.75]. */
  countScoreThresholds?: number[];
  /** IoU thresholds for matchCounts; each must be one of IOU_THRESHOLDS. Default [0.5, 0.75]. */
  countIouThresholds?: number[];
}

/** Raised for inputs pycocotools would reject; `source` says which file is at fault. */
export class CocoInputError extends Error {
  constructor(public readonly source: 'gt' | 'dt', message: string) {
    super(message);
    this.name = 'CocoInputError';
  }
}

// COCOeval Params defaults, generated with numpy's linspace so the floats are identical.
export const IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
export const REC_THRESHOLDS: readonly number[] = linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1);
export const MAX_DETS: readonly number[] = [1, 10, 100];
export const AREA_RANGES: readonly (readonly [number, number])[] = [
  [0 ** 2, 1e5 ** 2],
  [0 ** 2, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e5 ** 2],
];
