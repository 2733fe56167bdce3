/*
 * Training kernels for the tfjs wasm backend, in C with 128-bit wasm SIMD (see ../simd-kernels.ts).
 * The module imports the tfjs backend's own linear memory, so every pointer here is an address in
 * the tfjs heap: tensors are read and written in place, nothing is copied. It must therefore own
 * no static data (no data segment would be allowed to land in that memory): no globals, no string
 * or table constants; the loader checks. Build: ./build.sh (Debian clang + lld).
 */
#include <wasm_simd128.h>

#define EXPORT __attribute__((visibility("default")))
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store(p, v)
#define SPLAT(p) wasm_v128_load32_splat(p)
#define MAC(acc, a, b) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(a, b))

static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int imin(int a, int b) { return a < b ? a : b; }

/* out[i·os + j] += Σ_t xp[t·xs + i] · dp[t·ds + j] for i < 4, j < 8, t < len. */
static void block4x8(const float *xp, int xs, const float *dp, int ds, int len, float *out, int os) {
  v128_t a00 = LD(out), a01 = LD(out + 4), a10 = LD(out + os), a11 = LD(out + os + 4);
  v128_t a20 = LD(out + 2 * os), a21 = LD(out + 2 * os + 4), a30 = LD(out + 3 * os), a31 = LD(out + 3 * os + 4);
  for (int t = 0; t < len; t++) {
    v128_t d0 = LD(dp), d1 = LD(dp + 4);
    v128_t x0 = SPLAT(xp), x1 = SPLAT(xp + 1), x2 = SPLAT(xp + 2), x3 = SPLAT(xp + 3);
    MAC(a00, x0, d0); MAC(a01, x0, d1); MAC(a10, x1, d0); MAC(a11, x1, d1);
    MAC(a20, x2, d0); MAC(a21, x2, d1); MAC(a30, x3, d0); MAC(a31, x3, d1);
    xp += xs; dp += ds;
  }
  ST(out, a00); ST(out + 4, a01); ST(out + os, a10); ST(out + os + 4, a11);
  ST(out + 2 * os, a20); ST(out + 2 * os + 4, a21); ST(out + 3 * os, a30); ST(out + 3 * os + 4, a31);
}

/* The same for one x channel (i < 1) and 8 outputs. */
static void block1x8(const float *xp, int xs, const float *dp, int ds, int len, float *out) {
  v128_t a0 = LD(out), a1 = LD(out + 4), b0 = wasm_f32x4_splat(0), b1 = wasm_f32x4_splat(0);
  int t = 0;
  for (; t + 2 <= len; t += 2) {
    v128_t x0 = SPLAT(xp), x1 = SPLAT(xp + xs);
    MAC(a0, x0, LD(dp)); MAC(a1, x0, LD(dp + 4));
    MAC(b0, x1, LD(dp + ds)); MAC(b1, x1, LD(dp + ds + 4));
    xp += 2 * xs; dp += 2 * ds;
  }
  for (; t < len; t++) {
    v128_t x0 = SPLAT(xp);
    MAC(a0, x0, LD(dp)); MAC(a1, x0, LD(dp + 4));
    xp += xs; dp += ds;
  }
  ST(out, wasm_f32x4_add(a0, b0)); ST(out + 4, wasm_f32x4_add(a1, b1));
}

/* Scalar remainder: out[i·os + j] += Σ_t xp[t·xs + i]·dp[t·ds + j] for i < ni, j < nj. */
static void block_scalar(const float *xp, int xs, const float *dp, int ds, int len, float *out, int os, int ni, int nj) {
  for (int i = 0; i < ni; i++)
    for (int j = 0; j < nj; j++) {
      float s = out[i * os + j];
      for (int t = 0; t < len; t++) s += xp[t * xs + i] * dp[t * ds + j];
      out[i * os + j] = s;
    }
}

/*
 * Conv2DBackpropFilter, NHWC, stride 1, dilation 1, explicit top/left padding:
 * dw[kh,kw,c,f] = Σ_{n,oh,ow} x[n, oh+kh−padT, ow+kw−padL, c] · dy[n,oh,ow,f] (out-of-range x is 0).
 */
EXPORT void conv2d_filter_grad(const float *x, const float *dy, float *dw, int N, int H, int W, int C, int OH, int OW, int F,
                               int KH, int KW, int padT, int padL) {
  for (int i = 0, n = KH * KW * C * F; i < n; i++) dw[i] = 0;
  for (int n = 0; n < N; n++)
    for (int oh = 0; oh < OH; oh++) {
      const float *dyrow = dy + ((long)(n * OH + oh) * OW) * F;
      for (int kh = 0; kh < KH; kh++) {
        int ih = oh + kh - padT;
        if (ih < 0 || ih >= H) continue;
        const float *xrow = x + ((long)(n * H + ih) * W) * C;
        for (int kw = 0; kw < KW; kw++) {
          int lo = imax(0, padL - kw), hi = imin(OW, W + padL - kw);
          if (lo >= hi) continue;
          const float *xs = xrow + (long)(lo + kw - padL) * C;
          const float *ds = dyrow + (long)lo * F;
          int len = hi - lo;
          float *out = dw + (long)((kh * KW + kw) * C) * F;
          int c = 0;
          for (; c + 4 <= C; c += 4) {
            int f = 0;
            for (; f + 8 <= F; f += 8) block4x8(xs + c, C, ds + f, F, len, out + c * F + f, F);
            if (f < F) block_scalar(xs + c, C, ds + f, F, len, out + c * F + f, F, 4, F - f);
          }
          for (; c < C; c++) {
            int f = 0;
            for (; f + 8 <= F; f += 8) block1x8(xs + c, C, ds + f, F, len, out + c * F + f);
            if (f < F) block_scalar(xs + c, C, ds + f, F, len, out + c * F + f, F, 1, F - f);
          }
        }
      }
    }
}

/*
 * MaxPoolGrad with the cpu backend's semantics: each output routes its gradient to the first
 * maximum of its window in row-major order (padding excluded). Four channels at a time.
 */
EXPORT void max_pool_grad(const float *x, const float *dy, float *dx, int N, int H, int W, int C, int OH, int OW,
                          int KH, int KW, int SH, int SW, int padT, int padL) {
  for (long i = 0, n = (long)N * H * W * C; i < n; i++) dx[i] = 0;
  for (int b = 0; b < N; b++)
    for (int yr = 0; yr < OH; yr++) {
      int r0 = yr * SH - padT, rlo = imax(0, r0), rhi = imin(H, r0 + KH);
      for (int yc = 0; yc < OW; yc++) {
        int c0 = yc * SW - padL, clo = imax(0, c0), chi = imin(W, c0 + KW);
        const float *g = dy + ((long)(b * OH + yr) * OW + yc) * C;
        if (rlo >= rhi || clo >= chi) continue;
        long first = ((long)(b * H + rlo) * W + clo) * C;
        int ch = 0;
        for (; ch + 4 <= C; ch += 4) {
          v128_t best = LD(x + first + ch);
          v128_t idx = wasm_i32x4_splat((int)(first + ch));
          idx = wasm_i32x4_add(idx, wasm_i32x4_make(0, 1, 2, 3));
          for (int r = rlo; r < rhi; r++)
            for (int col = clo; col < chi; col++) {
              long at = ((long)(b * H + r) * W + col) * C + ch;
              if (at == first + ch) continue;
              v128_t v = LD(x + at);
              v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              v128_t here = wasm_i32x4_add(wasm_i32x4_splat((int)at), wasm_i32x4_make(0, 1, 2, 3));
              idx = wasm_v128_bitselect(here, idx, gt);
            }
          dx[wasm_i32x4_extract_lane(idx, 0)] += g[ch];
          dx[wasm_i32x4_extract_lane(idx, 1)] += g[ch + 1];
          dx[wasm_i32x4_extract_lane(idx, 2)] += g[ch + 2];
          dx[wasm_i32x4_extract_lane(idx, 3)] += g[ch + 3];
        }
        for (; ch < C; ch++) {
          long bi = first + ch;
          float best = x[bi];
          for (int r = rlo; r < rhi; r++)
            for (int col = clo; col < chi; col++) {
              long at = ((long)(b * H + r) * W + col) * C + ch;
              if (x[at] > best) { best = x[at]; bi = at; }
            }
          dx[bi] += g[ch];
        }
      }
    }
}

/*
 * Batched matrix product c[i] = op(a[i])·op(b[i]) (M×N), op = transpose when ta/tb is set:
 * a[i] is M×K (K×M when ta), b[i] is K×N (N×K when tb). sa/sb: floats between batch entries
 * (0 broadcasts one matrix to every batch entry).
 */
EXPORT void batch_matmul(const float *a, const float *b, float *c, int B, int M, int K, int N, int ta, int tb, long sa, long sb) {
  for (int i = 0; i < B; i++, a += sa, b += sb, c += (long)M * N) {
    if (!tb) {
      /* c[m, :] = Σ_k A(m,k)·b[k, :], 16 columns at a time in registers. */
      for (int m = 0; m < M; m++) {
        float *cr = c + (long)m * N;
        int n = 0;
        for (; n + 16 <= N; n += 16) {
          v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
          for (int k = 0; k < K; k++) {
            v128_t av = SPLAT(ta ? a + (long)k * M + m : a + (long)m * K + k);
            const float *br = b + (long)k * N + n;
            MAC(s0, av, LD(br)); MAC(s1, av, LD(br + 4)); MAC(s2, av, LD(br + 8)); MAC(s3, av, LD(br + 12));
          }
          ST(cr + n, s0); ST(cr + n + 4, s1); ST(cr + n + 8, s2); ST(cr + n + 12, s3);
        }
        for (; n + 4 <= N; n += 4) {
          v128_t s0 = wasm_f32x4_splat(0);
          for (int k = 0; k < K; k++) MAC(s0, SPLAT(ta ? a + (long)k * M + m : a + (long)m * K + k), LD(b + (long)k * N + n));
          ST(cr + n, s0);
        }
        for (; n < N; n++) {
          float s = 0;
          for (int k = 0; k < K; k++) s += (ta ? a[(long)k * M + m] : a[(long)m * K + k]) * b[(long)k * N + n];
          cr[n] = s;
        }
      }
    } else {
      /* c[m, n] = Σ_k A(m,k)·b[n, k]: dot products along k. */
      for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
          const float *br = b + (long)n * K;
          float s = 0;
          int k = 0;
          if (!ta) {
            const float *ar = a + (long)m * K;
            v128_t s0 = wasm_f32x4_splat(0), s1 = s0;
            for (; k + 8 <= K; k += 8) { MAC(s0, LD(ar + k), LD(br + k)); MAC(s1, LD(ar + k + 4), LD(br + k + 4)); }
            s0 = wasm_f32x4_add(s0, s1);
            s = wasm_f32x4_extract_lane(s0, 0) + wasm_f32x4_extract_lane(s0, 1) + wasm_f32x4_extract_lane(s0, 2) + wasm_f32x4_extract_lane(s0, 3);
          }
          for (; k < K; k++) s += (ta ? a[(long)k * M + m] : a[(long)m * K + k]) * br[k];
          c[(long)m * N + n] = s;
        }
    }
  }
}

/* out[c] = Σ_r in[r·C + c]: a sum over the leading axes (bias gradients), 16 columns at a time. */
EXPORT void sum_leading(const float *in, float *out, int R, int C) {
  int c = 0;
  for (; c + 16 <= C; c += 16) {
    v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
    const float *p = in + c;
    for (int r = 0; r < R; r++, p += C) { s0 = wasm_f32x4_add(s0, LD(p)); s1 = wasm_f32x4_add(s1, LD(p + 4)); s2 = wasm_f32x4_add(s2, LD(p + 8)); s3 = wasm_f32x4_add(s3, LD(p + 12)); }
    ST(out + c, s0); ST(out + c + 4, s1); ST(out + c + 8, s2); ST(out + c + 12, s3);
  }
  for (; c + 4 <= C; c += 4) {
    v128_t s0 = wasm_f32x4_splat(0);
    const float *p = in + c;
    for (int r = 0; r < R; r++, p += C) s0 = wasm_f32x4_add(s0, LD(p));
    ST(out + c, s0);
  }
  for (; c < C; c++) {
    float s = 0;
    for (int r = 0; r < R; r++) s += in[(long)r * C + c];
    out[c] = s;
  }
}
