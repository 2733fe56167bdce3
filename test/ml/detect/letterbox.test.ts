import { describe, expect, it } from '@jest/globals';
import { PIXEL_TO_FLOAT, letterbox, letterboxGeometry, pyRound } from '../../../src/ml/detect/letterbox.js';

// Expected values computed with Ultralytics' LetterBox arithmetic in Python 3:
//   r = min(H/h, W/w); new = (int(round(w*r)), int(round(h*r))); dw, dh = (W-new_w)/2, (H-new_h)/2
//   left, right = int(round(dw-0.1)), int(round(dw+0.1)); top, bottom likewise.
const cases: Array<[string, [number, number], { width: number; height: number }, ReturnType<typeof letterboxGeometry>]> = [
  ['landscape, r = 1', [320, 200], { width: 320, height: 320 }, { ratio: 1, newWidth: 320, newHeight: 200, padLeft: 0, padTop: 60, padRight: 0, padBottom: 60 }],
  ['odd padding goes bottom', [320, 199], { width: 320, height: 320 }, { ratio: 1, newWidth: 320, newHeight: 199, padLeft: 0, padTop: 60, padRight: 0, padBottom: 61 }],
  ['odd padding goes right', [199, 320], { width: 320, height: 320 }, { ratio: 1, newWidth: 199, newHeight: 320, padLeft: 60, padTop: 0, padRight: 61, padBottom: 0 }],
  ['shrink by 2', [640, 480], { width: 320, height: 320 }, { ratio: 0.5, newWidth: 320, newHeight: 240, padLeft: 0, padTop: 40, padRight: 0, padBottom: 40 }],
  ['enlarge', [100, 50], { width: 320, height: 320 }, { ratio: 3.2, newWidth: 320, newHeight: 160, padLeft: 0, padTop: 80, padRight: 0, padBottom: 80 }],
  ['irrational ratio', [333, 200], { width: 320, height: 320 }, { ratio: 0.960960960960961, newWidth: 320, newHeight: 192, padLeft: 0, padTop: 64, padRight: 0, padBottom: 64 }],
  ['irrational ratio, odd padding', [301, 200], { width: 320, height: 320 }, { ratio: 1.06312292358804, newWidth: 320, newHeight: 213, padLeft: 0, padTop: 53, padRight: 0, padBottom: 54 }],
  ['non-square input', [640, 640], { width: 320, height: 256 }, { ratio: 0.4, newWidth: 256, newHeight: 256, padLeft: 32, padTop: 0, padRight: 32, padBottom: 0 }],
  ['a half rounds to even (2.5 → 2)', [5, 4], { width: 4, height: 2 }, { ratio: 0.5, newWidth: 2, newHeight: 2, padLeft: 1, padTop: 0, padRight: 1, padBottom: 0 }],
  ['a thin strip', [1000, 3], { width: 320, height: 320 }, { ratio: 0.32, newWidth: 320, newHeight: 1, padLeft: 0, padTop: 159, padRight: 0, padBottom: 160 }],
];

describe('letterboxGeometry', () => {
  it.each(cases)('%s', (_name, [w, h], target, expected) => {
    const g = letterboxGeometry(w, h, target);
    expect(g).toEqual({ ...expected, ratio: g.ratio });
    expect(g.ratio).toBeCloseTo(expected.ratio, 14);
    expect(g.newWidth + g.padLeft + g.padRight).toBe(target.width);
    expect(g.newHeight + g.padTop + g.padBottom).toBe(target.height);
  });

  it('pyRound rounds halves to even like Python 3', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 0.4, 0.6, 59.9, 60.4].map(pyRound)).toEqual([0, 2, 2, 4, 0, -2, 0, 1, 60, 60]);
  });
});

describe('letterbox tensor', () => {
  it('is pixel / 255 rounded once to float32 (not pixel × float32(1/255))', () => {
    for (let v = 0; v < 256; v++) expect(PIXEL_TO_FLOAT[v]).toBe(Math.fround(v / 255));
    const viaReciprocal = Array.from({ length: 256 }, (_, v) => Math.fround(v * Math.fround(1 / 255)));
    expect(viaReciprocal.filter((x, v) => x !== PIXEL_TO_FLOAT[v])).toHaveLength(126);
  });

  it('copies pixels into CHW planes at the padding offset and pads with 114 (r = 1, odd padding)', async () => {
    // 4×3 image into 4×4: one row of padding, at the bottom.
    const w = 4, h = 3;
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
    const { data, ratio, padLeft, padTop } = await letterbox(rgb, w, h, { width: 4, height: 4 });
    expect({ ratio, padLeft, padTop }).toEqual({ ratio: 1, padLeft: 0, padTop: 0 });
    expect(data).toHaveLength(3 * 16);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          const expected = y < 3 ? rgb[(y * w + x) * 3 + c] / 255 : 114 / 255;
          expect(data[c * 16 + y * 4 + x]).toBe(Math.fround(expected));
        }
      }
    }
  });

  it('centres a narrow image with its odd pixel of padding on the right', async () => {
    const rgb = new Uint8Array(2 * 4 * 3).fill(200); // 2 wide, 4 high, into 5×4
    const { data, padLeft } = await letterbox(rgb, 2, 4, { width: 5, height: 4 });
    expect(padLeft).toBe(1);
    const row = Array.from(data.subarray(0, 5)).map((v) => Math.round(v * 255));
    expect(row).toEqual([114, 200, 200, 114, 114]);
  });

  it('resizes with sharp when r ≠ 1 and pads around the result', async () => {
    // 4×2 uniform image into 8×8: r = 2 → 8×4, two rows of padding above and below.
    const colour = [10, 200, 30];
    const rgb = Uint8Array.from({ length: 4 * 2 * 3 }, (_, i) => colour[i % 3]);
    const { data, ratio, padLeft, padTop } = await letterbox(rgb, 4, 2, { width: 8, height: 8 });
    expect({ ratio, padLeft, padTop }).toEqual({ ratio: 2, padLeft: 0, padTop: 2 });
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 8; y++) {
        const inside = y >= 2 && y < 6;
        for (let x = 0; x < 8; x++) expect(Math.round(data[c * 64 + y * 8 + x] * 255)).toBe(inside ? colour[c] : 114);
      }
    }
    // Shrinking: 16×16 → 8×8 keeps a left/right split at the middle.
    const half = Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => ((i / 3) % 16 < 8 ? 0 : 255));
    const shrunk = await letterbox(half, 16, 16, { width: 8, height: 8 });
    expect(shrunk.ratio).toBe(0.5);
    expect(Math.round(shrunk.data[0] * 255)).toBe(0);
    expect(Math.round(shrunk.data[7] * 255)).toBe(255);
  });

  it('reuses a given output buffer and refuses wrong sizes', async () => {
    const out = new Float32Array(3 * 4 * 4).fill(-1);
    const res = await letterbox(new Uint8Array(4 * 4 * 3), 4, 4, { width: 4, height: 4 }, 114, out);
    expect(res.data).toBe(out);
    expect(out.every((v) => v === 0)).toBe(true);
    await expect(letterbox(new Uint8Array(5), 4, 4, { width: 4, height: 4 })).rejects.toThrow('RGB buffer holds 5 bytes, not 4×4×3');
    await expect(letterbox(new Uint8Array(48), 4, 4, { width: 4, height: 4 }, 114, new Float32Array(3))).rejects.toThrow('output tensor holds 3 floats, not 3×4×4');
    await expect(letterbox(new Uint8Array(48), 4, 4, { width: 4, height: 4 }, 300)).rejects.toThrow('pad value 300 is not a byte (0..255)');
  });
});
