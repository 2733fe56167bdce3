// Bit-for-bit ports of the few numpy/Python numeric routines that pycocotools and
// scikit-learn lean on. Reproducing them exactly (not just "close enough") is what
// lets our numbers match the reference tools to the last printed digit.

/** numpy.linspace(start, stop, num) with endpoint=True, same float operations. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [start];
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  const out = new Array<number>(num);
  for (let i = 0; i < num; i++) {
    // numpy: y = arange(num) * step (or / div * delta when step == 0), then y += start
    out[i] = (step === 0 ? (i / div) * delta : i * step) + start;
  }
  out[num - 1] = stop; // numpy overwrites the last sample with stop exactly
  return out;
}

const PW_BLOCKSIZE = 128;

/**
 * numpy's pairwise summation (loops_utils.h `pairwise_sum`), used by np.sum/np.mean
 * over a contiguous float64 array. Summation order changes the last bits of a mean.
 */
export function pairwiseSum(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    let r0 = a[start], r1 = a[start + 1], r2 = a[start + 2], r3 = a[start + 3];
    let r4 = a[start + 4], r5 = a[start + 5], r6 = a[start + 6], r7 = a[start + 7];
    let i = 8;
    const end = n - (n % 8);
    for (; i < end; i += 8) {
      const p = start + i;
      r0 += a[p]; r1 += a[p + 1]; r2 += a[p + 2]; r3 += a[p + 3];
      r4 += a[p + 4]; r5 += a[p + 5]; r6 += a[p + 6]; r7 += a[p + 7];
    }
    let res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/**
 * Default buffer size of numpy's ufunc reductions. numpy 1.x (the pycocotools reference
 * ran 1.24) feeds a reduction to the pairwise loop in chunks of this many elements and
 * adds the chunk sums sequentially; numpy 2.x does not chunk, so its last bit can differ.
 */
const NPY_BUFSIZE = 8192;

/** np.sum of the first n values of a, as numpy 1.x computes it for a 1-D float64 array. */
export function npSum(a: ArrayLike<number>, n: number = a.length): number {
  let total = 0;
  for (let start = 0; start < n; start += NPY_BUFSIZE) {
    total += pairwiseSum(a, start, Math.min(NPY_BUFSIZE, n - start));
  }
  return total;
}

/** np.mean of the first n values of a (NaN for n = 0, as numpy). */
export function npMean(a: ArrayLike<number>, n: number = a.length): number {
  return npSum(a, n) / n;
}

/**
 * Python's format(x, '.<digits>f'). JS toFixed rounds exact ties away from zero while
 * Python rounds them to even (e.g. 0.0625 -> '0.062' in Python, '0.063' in JS).
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const s = x.toFixed(digits);
  if (Math.abs(x) >= 1e21) return s;
  // toFixed(100) is the exact decimal expansion for any double that can be a tie here.
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(rest)) return s;
  const truncated = exact.slice(0, digits > 0 ? dot + 1 + digits : dot);
  const lastDigit = Number(truncated[truncated.length - 1]);
  if (lastDigit % 2 !== 0) return s; // odd: rounding away from zero is also round-half-even
  return (x < 0 ? '-' : '') + truncated;
}
