// Shared by the benchmarks: every figure is reported with its run count and min/median/max, and a
// benchmark's headline figures go into `summary` rows that bench/report.ts puts in one table.

export interface Spread {
  runs: number;
  min: number;
  median: number;
  max: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const round = (v: number, digits: number) => Number(v.toPrecision(digits));

/** runs, min, median, max of `xs` (rounded to `digits` significant digits). */
export function spread(xs: number[], digits = 4): Spread {
  return { runs: xs.length, min: round(Math.min(...xs), digits), median: round(median(xs), digits), max: round(Math.max(...xs), digits) };
}

/** Per-run ratios a[i] / b[i] of runs measured as pairs (same conditions, back to back). */
export function pairedRatios(a: number[], b: number[]): number[] {
  if (a.length !== b.length) throw new Error('paired figures need as many runs on each side');
  return a.map((v, i) => v / b[i]!);
}

/** Per-run differences a[i] − b[i]. */
export function pairedDifferences(a: number[], b: number[]): number[] {
  if (a.length !== b.length) throw new Error('paired figures need as many runs on each side');
  return a.map((v, i) => v - b[i]!);
}

/** One line of BENCHMARKS.md's summary table. */
export interface SummaryRow {
  figure: string;
  assay: string;
  baseline: string;
  /** Assay ÷ baseline (or what `figure` says), as a median of paired runs where there are pairs. */
  ratio: string;
  goal: string;
  /** Whether the goal is met (null: no goal). */
  met: boolean | null;
}

/** `median (min–max, n runs)` with a unit. */
export function show(s: Spread, unit = ''): string {
  const u = unit ? ` ${unit}` : '';
  return `${s.median}${u} (${s.min}–${s.max}, ${s.runs} run${s.runs === 1 ? '' : 's'})`;
}

/** Alternates which side goes first, so drift in machine load hits both alike: ABBAAB… */
export function abOrder(run: number): ['a', 'b'] | ['b', 'a'] {
  return run % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
}

/** One epoch's wall and CPU time (the process's, so worker threads count). */
export interface EpochTime { seconds: number; cpuSeconds: number }

/** Times each epoch: call `tick` from the trainer's per-epoch progress callback. */
export function epochClock(): { epochs: EpochTime[]; tick: () => void } {
  const epochs: EpochTime[] = [];
  let cpu = process.cpuUsage();
  let wall = performance.now();
  return {
    epochs,
    tick: () => {
      const c = process.cpuUsage(cpu);
      epochs.push({ seconds: (performance.now() - wall) / 1000, cpuSeconds: (c.user + c.system) / 1e6 });
      cpu = process.cpuUsage();
      wall = performance.now();
    },
  };
}

/** Training throughput over epochs 2..E (the first carries warm-up): images/s and CPU-seconds per 1,000 images. */
export function steadyThroughput(epochs: EpochTime[], images: number): { imagesPerSecond: number; cpuSecondsPer1000: number } {
  const rest = epochs.slice(1);
  const seconds = rest.reduce((a, e) => a + e.seconds, 0);
  const cpu = rest.reduce((a, e) => a + e.cpuSeconds, 0);
  return { imagesPerSecond: (rest.length * images) / seconds, cpuSecondsPer1000: (1000 * cpu) / (rest.length * images) };
}

