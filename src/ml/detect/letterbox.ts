/**
 * Ultralytics' LetterBox (center=True, as in validation): scale the image to fit the input
 * keeping its aspect ratio, pad with 114 around it, then /255 into a CHW float32 tensor.
 */
import sharp from 'sharp';

export interface LetterboxGeometry {
  /** r = min(H/h, W/w): input pixels per image pixel. */
  ratio: number;
  newWidth: number;
  newHeight: number;
  padLeft: number;
  padTop: number;
  padRight: number;
  padBottom: number;
}

export interface Letterboxed {
  /** 3·H·W float32, CHW, RGB, pixel / 255. */
  data: Float32Array;
  ratio: number;
  padLeft: number;
  padTop: number;
}

/** Python 3's round(): halves go to the even neighbour (round(2.5) = 2), unlike Math.round. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** uint8 → float32 as numpy's `uint8 / 255` gives it: v/255 in double, rounded once to float32 (multiplying by 1/255 differs for 126 values). */
export const PIXEL_TO_FLOAT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

export function letterboxGeometry(width: number, height: number, target: { height: number; width: number }): LetterboxGeometry {
  if (!(width > 0 && height > 0)) throw new Error(`image size ${width}×${height} is empty`);
  const ratio = Math.min(target.height / height, target.width / width);
  // At least one pixel: a 1×5000 strip would otherwise vanish (cv2 would refuse it).
  const newWidth = Math.max(1, pyRound(width * ratio));
  const newHeight = Math.max(1, pyRound(height * ratio));
  const dw = (target.width - newWidth) / 2;
  const dh = (target.height - newHeight) / 2;
  // The ±0.1 sends an odd pixel of padding to the right/bottom, as Ultralytics does.
  return {
    ratio, newWidth, newHeight,
    padLeft: pyRound(dw - 0.1), padRight: pyRound(dw + 0.1),
    padTop: pyRound(dh - 0.1), padBottom: pyRound(dh + 0.1),
  };
}

/**
 * `rgb` is H·W·3 uint8 (HWC). `out`, when given, is reused (3·H·W floats of the target size),
 * so an evaluation loop allocates no tensor per image.
 */
export async function letterbox(
  rgb: Uint8Array,
  width: number,
  height: number,
  target: { height: number; width: number },
  padValue = 114,
  out?: Float32Array,
): Promise<Letterboxed> {
  if (!Number.isInteger(padValue) || padValue < 0 || padValue > 255) throw new Error(`pad value ${padValue} is not a byte (0..255)`);
  if (rgb.length !== width * height * 3) throw new Error(`RGB buffer holds ${rgb.length} bytes, not ${width}×${height}×3`);
  const g = letterboxGeometry(width, height, target);
  const { height: H, width: W } = target;
  const plane = H * W;
  const data = out ?? new Float32Array(3 * plane);
  if (data.length !== 3 * plane) throw new Error(`output tensor holds ${data.length} floats, not 3×${H}×${W}`);

  let src = rgb;
  if (g.newWidth !== width || g.newHeight !== height) {
    // Ultralytics resizes with cv2.INTER_LINEAR; sharp's 'linear' kernel is the closest libvips
    // offers (not bit-identical: libvips widens the kernel when shrinking, cv2 samples 2×2 pixels).
    src = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .resize(g.newWidth, g.newHeight, { kernel: 'linear', fit: 'fill' })
      .raw()
      .toBuffer();
  }

  data.fill(PIXEL_TO_FLOAT[padValue]);
  const { newWidth: nw, newHeight: nh, padLeft, padTop } = g;
  for (let y = 0; y < nh; y++) {
    const row = (y + padTop) * W + padLeft;
    let s = y * nw * 3;
    for (let x = 0; x < nw; x++, s += 3) {
      data[row + x] = PIXEL_TO_FLOAT[src[s]];
      data[plane + row + x] = PIXEL_TO_FLOAT[src[s + 1]];
      data[2 * plane + row + x] = PIXEL_TO_FLOAT[src[s + 2]];
    }
  }
  return { data, ratio: g.ratio, padLeft, padTop };
}
