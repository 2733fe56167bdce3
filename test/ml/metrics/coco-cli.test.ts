import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cocoJson, evalCocoFiles, formatCocoStats } from '../../../src/ml/metrics/coco-cli.js';

const REFERENCE_DIR = process.env.ASSAY_REFERENCE_DIR ?? path.resolve(process.cwd(), 'test/fixtures/coco-eval');
const cases = existsSync(REFERENCE_DIR)
  ? readdirSync(REFERENCE_DIR).filter((n) => existsSync(path.join(REFERENCE_DIR, n, 'expected.json'))).sort()
  : [];

describe('formatCocoStats / cocoJson on the reference cases', () => {
  it('has reference cases to check', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  for (const name of cases) {
    it(`prints pycocotools' summarize() output for ${name}`, async () => {
      const dir = path.join(REFERENCE_DIR, name);
      const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
        summarize_output: string[];
        stats: Record<string, number>;
        per_class: Record<string, { name: string; AP: number }>;
      };
      const result = await evalCocoFiles(path.join(dir, 'gt.json'), path.join(dir, 'dets.json'));
      expect(formatCocoStats(result)).toBe(expected.summarize_output.join('\n'));

      const json = cocoJson(result);
      expect(Object.keys(json)).toEqual([...Object.keys(expected.stats), 'per_class']);
      for (const [key, value] of Object.entries(expected.stats)) {
        expect((json as unknown as Record<string, number>)[key]).toBeCloseTo(value, 6);
      }
      for (const [id, c] of Object.entries(expected.per_class)) {
        expect(json.per_class[id].name).toBe(c.name);
        expect(json.per_class[id].AP).toBeCloseTo(c.AP, 6);
      }
      expect(JSON.parse(JSON.stringify(json))).toEqual(json); // plain JSON, no typed arrays
    });
  }
});

describe('evalCocoFiles input validation', () => {
  let dir = '';
  const goodGt = {
    images: [{ id: 1 }],
    categories: [{ id: 1, name: 'kit' }],
    annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 }],
  };
  const goodDt = [{ image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 0.9 }];
  const write = (name: string, content: unknown): string => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'assay-coco-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('evaluates well-formed files', async () => {
    const result = await evalCocoFiles(write('gt.json', goodGt), write('dt.json', goodDt));
    expect(result.stats.AP).toBeCloseTo(1, 12);
    expect(result.perClass['1'].name).toBe('kit');
  });

  it('names the file that is not JSON', async () => {
    const gt = write('gt.json', goodGt);
    const dt = write('broken.json', '[{"image_id": 1,');
    await expect(evalCocoFiles(gt, dt)).rejects.toThrow(`${dt}: not valid JSON`);
  });

  it('names a missing file', async () => {
    const missing = path.join(dir, 'nope.json');
    await expect(evalCocoFiles(missing, write('dt.json', goodDt))).rejects.toThrow(/cannot read ground-truth file .*nope\.json/);
  });

  it('reports missing ground-truth sections and fields with their path', async () => {
    const dt = write('dt.json', goodDt);
    const noAnns = write('gt-no-anns.json', { images: [], categories: [] });
    await expect(evalCocoFiles(noAnns, dt)).rejects.toThrow(/gt-no-anns\.json: invalid content\n {2}annotations: /);

    const noArea = write('gt-no-area.json', { ...goodGt, annotations: [{ ...goodGt.annotations[0], area: undefined }] });
    await expect(evalCocoFiles(noArea, dt)).rejects.toThrow(/annotations\[0\]\.area: area must be a number/);
  });

  it('rejects a bbox that is not 4 numbers', async () => {
    const gt = write('gt.json', goodGt);
    const three = write('dt3.json', [{ ...goodDt[0], bbox: [1, 2, 3] }]);
    await expect(evalCocoFiles(gt, three)).rejects.toThrow(/dt3\.json: invalid content\n {2}\[0\]\.bbox: bbox must be 4 numbers/);
    const text = write('dt-text.json', [{ ...goodDt[0], bbox: [1, 'two', 3, 4] }]);
    await expect(evalCocoFiles(gt, text)).rejects.toThrow(/\[0\]\.bbox\[1\]: bbox values must be finite numbers/);
  });

  it('requires detections to be a results list with scores', async () => {
    const gt = write('gt.json', goodGt);
    await expect(evalCocoFiles(gt, write('dt-obj.json', { annotations: goodDt })))
      .rejects.toThrow(/\(root\): expected a JSON array of detections/);
    await expect(evalCocoFiles(gt, write('dt-noscore.json', [{ ...goodDt[0], score: undefined }])))
      .rejects.toThrow(/\[0\]\.score: score must be a number/);
  });

  it('lists at most five problems', async () => {
    const many = write('dt-many.json', Array.from({ length: 8 }, () => ({ image_id: 1, category_id: 1, bbox: [1], score: 1 })));
    await expect(evalCocoFiles(write('gt.json', goodGt), many)).rejects.toThrow(/\.\.\. and 3 more/);
  });

  it('blames the detections file for detections on unknown images', async () => {
    const dt = write('dt-img.json', [{ ...goodDt[0], image_id: 42 }]);
    await expect(evalCocoFiles(write('gt.json', goodGt), dt)).rejects.toThrow(`${dt}: detection [0] has image_id 42`);
  });
});
