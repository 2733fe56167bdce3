// A detector's approval card: mAP50-95 and mAP50 against the lineage's previous version, AP per
// class named by the option's Salesforce name (key second), within Slack's field limits, with
// text from Salesforce escaped. The card is built from what the services store (comparableMetrics
// keeps the previous version's detector figures).
import { describe, expect, it } from '@jest/globals';
import type { KnownBlock, SectionBlock } from '@slack/types';
import { comparableMetrics } from '../../src/domain/index.js';
import { detectorApprovalSection, type DetectionFigures } from '../../views/detection-card.js';
import { trainingMessage, type TrainingMessageInput } from '../../views/training-message.js';

const cls = (AP: number, AP50: number, num_gt = 10) => ({ AP, AP50, AP75: AP, AR100: AP, precision: AP50, recall: AP50, num_gt, num_dets: 12, category_id: 1 });
const current: DetectionFigures & Record<string, unknown> = {
  task: 'detect', AP: 0.8123, AP50: 0.9512, AP75: 0.85, images: 18, detections: 400,
  per_class: { red_light: cls(0.9, 0.99, 30), control_line: cls(0.7, 0.91, 1), pad_positive: cls(-1, -1, 0) },
};
const prior: DetectionFigures & Record<string, unknown> = {
  task: 'detect', AP: 0.7781, AP50: 0.9612, images: 18, detections: 380,
  per_class: { red_light: cls(0.85, 0.99), control_line: cls(0.75, 0.9) },
};
const titles = { red_light: 'Red Light', control_line: 'Control line <!channel>' };

const texts = (blocks: KnownBlock[]) => blocks.flatMap((b) => {
  const s = b as SectionBlock & { elements?: { text: string }[] };
  return [s.text?.text, ...(s.fields ?? []).map((f) => f.text), ...(s.elements ?? []).map((e) => e.text)].filter((t): t is string => typeof t === 'string');
});

describe('detectorApprovalSection', () => {
  it('shows mAP50-95 and mAP50 with the previous version and the change, and AP per class with its change', () => {
    const blocks = detectorApprovalSection(current, prior, titles, { previousVersion: 1 });
    const [head, classes] = blocks as SectionBlock[];
    expect(head.fields!.map((f) => f.text)).toEqual(['*mAP50-95*\n0.812  (v1 0.778, +0.034)', '*mAP50*\n0.951  (v1 0.961, −0.010)']);
    const fields = classes.fields!.map((f) => f.text);
    expect(fields[0]).toBe('*Red Light* (`red_light`)\nAP 0.900 (+0.050) · AP50 0.990 (±0.000) · 30 boxes');
    // Salesforce text is escaped; the key stays second.
    expect(fields[1]).toBe('*Control line &lt;!channel&gt;* (`control_line`)\nAP 0.700 (−0.050) · AP50 0.910 (+0.010) · 1 box');
    // No true boxes: no AP (pycocotools' -1), no change; no Salesforce name: the key alone.
    expect(fields[2]).toBe('*pad_positive*\nAP — · AP50 — · 0 boxes');
    expect(texts(blocks).join('\n')).toContain('Changes are against v1 of this lineage.');
    expect(JSON.stringify(blocks)).not.toContain('<!channel>');
  });

  it('says nothing about changes for a lineage\'s first version', () => {
    const blocks = detectorApprovalSection(current, null, titles);
    const all = texts(blocks).join('\n');
    expect((blocks[0] as SectionBlock).fields!.map((f) => f.text)).toEqual(['*mAP50-95*\n0.812', '*mAP50*\n0.951']);
    expect(all).not.toMatch(/[+−±]\d/);
    expect(all).not.toContain('Changes are against');
    expect(all).toContain('18 photos');
  });

  it('keeps within Slack\'s limits for many classes with long names: 10 fields a section, 2000 characters a field', () => {
    const many: DetectionFigures = { AP: 0.5, AP50: 0.6, per_class: Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`class_${i}_${'k'.repeat(300)}`, cls(0.5, 0.6)])) };
    const longTitles = Object.fromEntries(Object.keys(many.per_class).map((k) => [k, 'T'.repeat(5000)]));
    const blocks = detectorApprovalSection(many, many, longTitles);
    const sections = blocks.filter((b) => b.type === 'section') as SectionBlock[];
    expect(sections).toHaveLength(1 + 3);
    for (const s of sections) {
      expect(s.fields!.length).toBeLessThanOrEqual(10);
      for (const f of s.fields!) expect(f.text.length).toBeLessThanOrEqual(2000);
    }
    expect(texts(blocks).join('\n')).toContain('15 more classes not shown');
  });
});

describe('the approval card of a detector', () => {
  const input = (metrics: Record<string, unknown>, classTitles?: Record<string, string>): TrainingMessageInput => ({
    uid: 't1', status: 'trained', currentEpoch: 5, totalEpochs: 5, progress: 1, datasetName: 'kit photos', requestedBy: 'UREQ', error: null,
    lineageName: 'lights', trainingId: 'TR-1', model: { id: 'm2', modelName: 'lights-v2', modelVersion: 2, status: 'pending_approval', metrics, classTitles }, decision: null,
  });

  it('is built from the stored metrics: the previous version keeps its mAP and per-class AP through comparableMetrics', () => {
    const stored = { ...current, evaluationUid: 'e', previous: { modelId: 'm1', modelName: 'lights-v1', modelVersion: 1, ...prior } };
    const msg = trainingMessage(input(comparableMetrics(stored)!, titles));
    const all = texts(msg.blocks).join('\n');
    expect(all).toContain('*mAP50-95*\n0.812  (v1 0.778, +0.034)');
    expect(all).toContain('*Red Light* (`red_light`)\nAP 0.900 (+0.050)');
    // The classifier's flat list is not used for a detector.
    expect(all).not.toContain('*AP75*');
    expect(msg.blocks.some((b) => b.type === 'actions')).toBe(true);
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
  });

  it('leaves the classifier card as it was', () => {
    const stored = { accuracy: 0.9, support: 40, previous: { modelVersion: 1, accuracy: 0.8, support: 20 } };
    const all = texts(trainingMessage(input(comparableMetrics(stored)!)).blocks).join('\n');
    expect(all).toContain('*accuracy*: 0.900 (previous 0.800, +0.100)');
    expect(all).not.toContain('mAP50');
  });
});
