// Drawing pieces shared by the synthetic datasets (the demo's panels, the detection scenes, the
// tests' synthetic kits): SVG shapes with colour jitter and noisy RGB backgrounds, all driven by a
// seeded `random` so a dataset is fully determined by its seed.

/** The traffic-light labels, in lamp order top to bottom. */
export const LIGHT_LABELS = ['red_light', 'yellow_light', 'green_light'] as const;

const LAMP_COLOURS: [number, number, number][] = [[230, 30, 30], [240, 200, 20], [30, 210, 60]];

/** Colour with ±`j` per-channel jitter so classes are not a single exact RGB value. */
export function jitter(random: () => number, [r, g, b]: [number, number, number], j = 25): string {
  const c = (v: number) => Math.max(0, Math.min(255, Math.round(v + (random() * 2 - 1) * j)));
  return `rgb(${c(r)},${c(g)},${c(b)})`;
}

/** A traffic-light panel in box (x, y, w, h): a dark housing with three lamps, the one of `label` lit. */
export function trafficLight(label: string, x: number, y: number, w: number, h: number, random: () => number, litJitter = 25): string {
  const lit = LIGHT_LABELS.indexOf(label as (typeof LIGHT_LABELS)[number]);
  const r = Math.min(w * 0.36, h / 7);
  const lamps = [0, 1, 2].map((i) => {
    const fill = i === lit ? jitter(random, LAMP_COLOURS[i]!, litJitter) : jitter(random, [60, 60, 60], 10);
    return `<circle cx="${x + w / 2}" cy="${y + (h * (i * 2 + 1)) / 6}" r="${r}" fill="${fill}"/>`;
  });
  return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${w * 0.2}" fill="${jitter(random, [25, 25, 25], 12)}"/>${lamps.join('')}`;
}

/** Raw RGB pixels of a square: a random base colour plus per-pixel noise of ±`noise`. */
export function noisySquare(size: number, random: () => number, noise: number): Buffer {
  const base = [40 + random() * 160, 40 + random() * 160, 40 + random() * 160];
  const buf = Buffer.alloc(size * size * 3);
  for (let i = 0; i < buf.length; i++) buf[i] = Math.max(0, Math.min(255, Math.round(base[i % 3]! + (random() * 2 - 1) * noise)));
  return buf;
}
