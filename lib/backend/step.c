/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One inference step of a few samples (T = 1, N <= RNN__STEP_MAX_N, f32 or
 * mixed bf16): the decoding and serving path, where a recurrent layer is two
 * matrix-vector products and a little element-wise work.
 *
 * Such a step is bound by reading the weights (4 (I + H) G H bytes: 4.7 MB
 * for a GRU 256 -> 512), which mostly sit in the last-level cache. oneDNN 2.6
 * runs the f32 LBR-GRU step through sgemm ("ref" in ONEDNN_VERBOSE) and LSTM
 * through brgemm: measured here with 2 threads, dnnl_sgemm reads the GRU's two
 * matrices at about 120 GB/s, while each thread streaming its own panels of a
 * copy packed 64 columns wide ([panel][k][64]) reads about 170 GB/s. So this
 * path packs the weights once per version and computes the step itself with
 * AVX-512: one parallel region, each thread taking whole 64-unit panels of
 * every gate (the products of x and h_prev, then the cell's element-wise
 * step on those units; plain GRU needs a second pass for r * h_prev).
 *
 * Each thread keeps the same panels from call to call and walks them
 * forwards on one call and backwards on the next: the panels it read last,
 * still in its core's L2, are the first it needs again. When a thread's
 * share is larger than its L2 (LSTM 256 -> 512 on 2 threads: 3.1 MB each
 * against 2 MB of L2 per core on a Xeon with AMX), a fixed order streams
 * everything from L3 on every step (about 55 GB/s for the two cores there:
 * 112 us for the LSTM, 58 for the GRU); the alternating one reads about
 * 2 MB less per thread from L3 (65 and 38 us; on 1 thread 187 and 124 us
 * against 254 and 182; rnn_bench --case infer_step, medians of 5 rounds,
 * 2026-12-04). The order changes no result: each panel's sums run in the
 * same order either way.
 *
 * The path is used only where the CPU has AVX-512F and the call is eligible
 * (rnn__step_eligible); everything else stays on oneDNN. Mixed precision
 * (f->bf16, where the CPU also has AVX512-BF16) packs the weights as bf16
 * pairs of consecutive rows and multiplies with vdpbf16ps (x, h_prev and
 * GRU's r * h_prev rounded to bf16, f32 sums, h rounded to bf16 after the
 * step, LSTM's c in f32: backend.h's bf16 contract): half the bytes to read.
 * RNN_STEP_KERNEL=0 in the environment turns the path off (for comparisons:
 * bench/rnn_bench --case infer_step with and without it).
 *
 * The arithmetic is the cell equations of backend.h in f32 (sums in another
 * order than oneDNN's; exp from a polynomial with a relative error below
 * 2e-7): tests/backend/test_step.c compares it with the reference backend.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define STEP_X86 1
#else
#define STEP_X86 0
#endif

#define PANEL 64 /* columns per panel: 4 AVX-512 registers per sample */

struct rnn__step {
    rnn__cell cell;
    int64_t I, H, Hp; /* Hp: H rounded up to a whole panel, per gate */
    int G, Gb;
    /* The packed weights, one set per precision (pk[0] f32, pk[1] bf16):
     *   f32:  wx [G][Hp/64][I][64], wh [G][Hp/64][H][64], zero columns past H;
     *   bf16: the same panels with two bf16 of consecutive k in each 32-bit
     *         lane ([G][Hp/64][K2][64][2], K2 = ceil(K/2)), as vdpbf16ps
     *         reads them. */
    struct packed {
        void *wx, *wh;
        const float *src_wx, *src_wh; /* valid for (src_wx, src_wh, version) */
        uint64_t version;
        int valid;
    } pk[2];
    /* bf16: x and h_prev rounded to bf16 (as f32) */
    rnn__fbuf xr, hr;
    /* gx, gh: [N][G][Hp] products; rh: GRU's r * h_prev [N][H] */
    rnn__fbuf gx, gh, rh;
    uint64_t calls; /* steps run: odd ones walk the weights backwards */
};

extern int omp_get_num_threads(void);
extern int omp_get_thread_num(void);

/* What the CPU and the environment allow, found once: bit 0 the f32 path
 * (AVX-512F), bit 1 the bf16 path (AVX512-BF16 too). */
static int caps;
static pthread_once_t caps_once = PTHREAD_ONCE_INIT;

static void find_caps(void)
{
    const char *e = getenv("RNN_STEP_KERNEL");
    if (e && !strcmp(e, "0"))
        return;
#if STEP_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        caps = 1 | (__builtin_cpu_supports("avx512bf16") ? 2 : 0);
#endif
}

int rnn__step_eligible(const rnn__rnn_fwd *f)
{
    if (f->T != 1 || f->N > RNN__STEP_MAX_N || f->training || f->rec_mask)
        return 0;
    pthread_once(&caps_once, find_caps);
    return (caps & (f->bf16 ? 2 : 1)) != 0;
}

rnn_status rnn__step_create(const rnn__rnn_shape *s, rnn__step **out)
{
    *out = NULL;
    rnn__step *k = rnn__calloc(1, sizeof *k);
    if (!k)
        return RNN__NOMEM(sizeof *k);
    k->cell = s->cell;
    k->I = s->I;
    k->H = s->H;
    k->Hp = (s->H + PANEL - 1) / PANEL * PANEL;
    k->G = rnn__cell_gates(s->cell);
    k->Gb = rnn__cell_bias_gates(s->cell);
    *out = k;
    return RNN_OK;
}

void rnn__step_destroy(rnn__step *k)
{
    if (!k)
        return;
    for (int i = 0; i < 2; i++) {
        rnn__free(k->pk[i].wx);
        rnn__free(k->pk[i].wh);
    }
    rnn__fbuf_free(&k->xr);
    rnn__fbuf_free(&k->hr);
    rnn__fbuf_free(&k->gx);
    rnn__fbuf_free(&k->gh);
    rnn__fbuf_free(&k->rh);
    rnn__free(k);
}

/* src [K][G*H] (ldigo) -> dst [G][Hp/64][K][64], zeros past H. */
static void pack(const float *src, int64_t K, int G, int64_t H, int64_t Hp, float *dst)
{
    const int64_t np = Hp / PANEL;
#pragma omp parallel for schedule(static) if (K * G * Hp >= (int64_t)RNN__PAR_MIN)
    for (int64_t gp = 0; gp < G * np; gp++) {
        const int64_t g = gp / np, c0 = (gp % np) * PANEL;
        const int64_t w = H - c0 < PANEL ? H - c0 : PANEL;
        float *d = dst + gp * K * PANEL;
        for (int64_t k = 0; k < K; k++) {
            memcpy(d + k * PANEL, src + k * G * H + g * H + c0, sizeof(float) * (size_t)w);
            memset(d + k * PANEL + w, 0, sizeof(float) * (size_t)(PANEL - w));
        }
    }
}

/* src [K][G*H] -> dst [G][Hp/64][K2][64][2] bf16 (rounded to nearest even), zeros
 * past H and at k = K when K is odd. */
static void pack_bf16(const float *src, int64_t K, int G, int64_t H, int64_t Hp, uint16_t *dst)
{
    const int64_t np = Hp / PANEL, K2 = (K + 1) / 2;
#pragma omp parallel for schedule(static) if (K * G * Hp >= (int64_t)RNN__PAR_MIN)
    for (int64_t gp = 0; gp < G * np; gp++) {
        const int64_t g = gp / np, c0 = (gp % np) * PANEL;
        uint16_t *d = dst + gp * K2 * PANEL * 2;
        for (int64_t k2 = 0; k2 < K2; k2++)
            for (int64_t j = 0; j < PANEL; j++)
                for (int64_t e = 0; e < 2; e++) {
                    const int64_t k = 2 * k2 + e, c = c0 + j;
                    d[(k2 * PANEL + j) * 2 + e] =
                        k < K && c < H ? rnn__bf16_from_f32(src[k * G * H + g * H + c]) : 0;
                }
    }
}

/* The weights packed for the precision (bf16: 0 or 1), packed again when the
 * weights changed (pointers or version). */
static rnn_status ensure_packed(rnn__step *k, int bf16, const rnn__rnn_weights *w)
{
    struct packed *p = &k->pk[bf16];
    if (p->valid && p->src_wx == w->wx && p->src_wh == w->wh && p->version == w->version)
        return RNN_OK;
    const int64_t K[2] = {k->I, k->H};
    size_t bytes[2];
    void **dst[2] = {&p->wx, &p->wh};
    for (int i = 0; i < 2; i++) {
        bytes[i] = bf16 ? sizeof(uint16_t) * (size_t)((K[i] + 1) / 2 * 2 * k->G * k->Hp)
                        : sizeof(float) * (size_t)(K[i] * k->G * k->Hp);
        /* (one kept when the other failed: the next call allocates what is missing) */
        if (!*dst[i])
            *dst[i] = rnn__malloc(bytes[i]);
    }
    if (!p->wx || !p->wh)
        return RNN__NOMEM(bytes[0] + bytes[1]);
    const float *src[2] = {w->wx, w->wh};
    for (int i = 0; i < 2; i++) {
        if (bf16)
            pack_bf16(src[i], K[i], k->G, k->H, k->Hp, *dst[i]);
        else
            pack(src[i], K[i], k->G, k->H, k->Hp, *dst[i]);
    }
    p->src_wx = w->wx;
    p->src_wh = w->wh;
    p->version = w->version;
    p->valid = 1;
    return RNN_OK;
}

#if STEP_X86
/* out[n][0..63] = sum_k a[n][k] p[k][0..63] for n < N (a: N rows of K, lda).
 * N is a constant in each instance below, so the accumulators stay in
 * registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
panel_gemv_n(const float *p, int64_t K, const float *a, int64_t lda, const int N, float *out,
             int64_t ldo)
{
    __m512 acc[RNN__STEP_MAX_N][4];
    for (int n = 0; n < N; n++)
        for (int j = 0; j < 4; j++)
            acc[n][j] = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k++, p += PANEL) {
        const __m512 w0 = _mm512_loadu_ps(p), w1 = _mm512_loadu_ps(p + 16),
                     w2 = _mm512_loadu_ps(p + 32), w3 = _mm512_loadu_ps(p + 48);
        for (int n = 0; n < N; n++) {
            const __m512 v = _mm512_set1_ps(a[n * lda + k]);
            acc[n][0] = _mm512_fmadd_ps(v, w0, acc[n][0]);
            acc[n][1] = _mm512_fmadd_ps(v, w1, acc[n][1]);
            acc[n][2] = _mm512_fmadd_ps(v, w2, acc[n][2]);
            acc[n][3] = _mm512_fmadd_ps(v, w3, acc[n][3]);
        }
    }
    for (int n = 0; n < N; n++)
        for (int j = 0; j < 4; j++)
            _mm512_storeu_ps(out + n * ldo + 16 * j, acc[n][j]);
}

__attribute__((target("avx512f"))) static void panel_gemv(const float *p, int64_t K,
                                                           const float *a, int64_t lda, int N,
                                                           float *out, int64_t ldo)
{
    switch (N) {
    case 1: panel_gemv_n(p, K, a, lda, 1, out, ldo); break;
    case 2: panel_gemv_n(p, K, a, lda, 2, out, ldo); break;
    case 3: panel_gemv_n(p, K, a, lda, 3, out, ldo); break;
    default: panel_gemv_n(p, K, a, lda, 4, out, ldo); break;
    }
}

/* panel_gemv on bf16 panels (pack_bf16) with the rows of a already rounded to
 * bf16 (as f32): vdpbf16ps, f32 accumulation. */
__attribute__((target("avx512f,avx512bf16"), always_inline)) static inline void
panel_gemv_bf16_n(const uint16_t *p, int64_t K, const float *a, int64_t lda, const int N,
                  float *out, int64_t ldo)
{
    __m512 acc[RNN__STEP_MAX_N][4];
    for (int n = 0; n < N; n++)
        for (int j = 0; j < 4; j++)
            acc[n][j] = _mm512_setzero_ps();
    const int64_t K2 = (K + 1) / 2;
    for (int64_t k2 = 0; k2 < K2; k2++, p += 2 * PANEL) {
        const __m512bh w0 = (__m512bh)_mm512_loadu_si512(p),
                       w1 = (__m512bh)_mm512_loadu_si512(p + 32),
                       w2 = (__m512bh)_mm512_loadu_si512(p + 64),
                       w3 = (__m512bh)_mm512_loadu_si512(p + 96);
        for (int n = 0; n < N; n++) {
            uint32_t lo, hi = 0; /* the pair (a[2 k2], a[2 k2 + 1]) as two bf16 */
            memcpy(&lo, a + n * lda + 2 * k2, sizeof lo);
            if (2 * k2 + 1 < K)
                memcpy(&hi, a + n * lda + 2 * k2 + 1, sizeof hi);
            const __m512bh v =
                (__m512bh)_mm512_set1_epi32((int)((lo >> 16) | (hi & 0xffff0000u)));
            acc[n][0] = _mm512_dpbf16_ps(acc[n][0], v, w0);
            acc[n][1] = _mm512_dpbf16_ps(acc[n][1], v, w1);
            acc[n][2] = _mm512_dpbf16_ps(acc[n][2], v, w2);
            acc[n][3] = _mm512_dpbf16_ps(acc[n][3], v, w3);
        }
    }
    for (int n = 0; n < N; n++)
        for (int j = 0; j < 4; j++)
            _mm512_storeu_ps(out + n * ldo + 16 * j, acc[n][j]);
}

__attribute__((target("avx512f,avx512bf16"))) static void
panel_gemv_bf16(const uint16_t *p, int64_t K, const float *a, int64_t lda, int N, float *out,
                int64_t ldo)
{
    switch (N) {
    case 1: panel_gemv_bf16_n(p, K, a, lda, 1, out, ldo); break;
    case 2: panel_gemv_bf16_n(p, K, a, lda, 2, out, ldo); break;
    case 3: panel_gemv_bf16_n(p, K, a, lda, 3, out, ldo); break;
    default: panel_gemv_bf16_n(p, K, a, lda, 4, out, ldo); break;
    }
}

/* v rounded to the nearest bf16 (ties to even), as f32; NaN stays NaN. */
__attribute__((target("avx512f"))) static inline __m512 vround_bf16(__m512 v)
{
    const __m512i u = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), lsb);
    r = _mm512_and_si512(r, _mm512_set1_epi32((int)0xffff0000u));
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    const __m512i q = _mm512_or_si512(_mm512_and_si512(u, _mm512_set1_epi32((int)0xffff0000u)),
                                      _mm512_set1_epi32(0x00400000));
    return _mm512_castsi512_ps(_mm512_mask_blend_epi32(nan, r, q));
}

/* e^x for x in [-88, 88] (clamped outside): 2^m * p(r), r = x - m ln 2 in
 * [-ln2/2, ln2/2], p of degree 6 (relative error below 2e-7). */
__attribute__((target("avx512f"))) static inline __m512 vexp(__m512 x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    const __m512 m = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(m, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(m, _mm512_set1_ps(1.428606765330187045e-06f), r);
    __m512 q = _mm512_set1_ps(1.0f / 720);
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 120));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 24));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 6));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.5f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(q, m);
}

__attribute__((target("avx512f"))) static inline __m512 vsigmoid(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, vexp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

/* tanh x = sign(x) (1 - 2 / (e^{2|x|} + 1)); below |x| = 2^-4 its series to x^7
 * (the subtraction would lose relative precision there). */
__attribute__((target("avx512f"))) static inline __m512 vtanh(__m512 x)
{
    const __m512 ax = _mm512_abs_ps(x), one = _mm512_set1_ps(1.0f);
    __m512 big = _mm512_sub_ps(
        one, _mm512_div_ps(_mm512_set1_ps(2.0f),
                           _mm512_add_ps(vexp(_mm512_add_ps(ax, ax)), one)));
    big = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(big),
        _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
    const __m512 x2 = _mm512_mul_ps(x, x);
    __m512 s = _mm512_set1_ps(-17.0f / 315);
    s = _mm512_fmadd_ps(s, x2, _mm512_set1_ps(2.0f / 15));
    s = _mm512_fmadd_ps(s, x2, _mm512_set1_ps(-1.0f / 3));
    s = _mm512_fmadd_ps(_mm512_mul_ps(s, x2), x, x);
    const __mmask16 small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.0625f), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(small, big, s);
}

/* The element-wise part of one step for sample rows gx, gh ([G][Hp]) over
 * units [j, j + 16) masked by mk. Phase 0: everything but GRU's candidate;
 * for GRU (reset_after false) phase 0 writes r*h_prev into rh and phase 1
 * finishes. */
__attribute__((target("avx512f"))) static void cell_units(const rnn__step *k, int phase,
                                                           const float *gx, const float *gh,
                                                           const float *b, const float *h0,
                                                           const float *c0, float *rh, float *y,
                                                           float *c1, int64_t j, __mmask16 mk,
                                                           int bf16)
{
    const int64_t Hp = k->Hp, H = k->H;
#define LD(p) _mm512_maskz_loadu_ps(mk, (p))
#define OUT(v) (bf16 ? vround_bf16(v) : (v)) /* h, and GRU's r * h_prev, in bf16 */
    const __m512 hp = h0 ? LD(h0 + j) : _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    switch (k->cell) {
    case RNN__CELL_RNN_TANH:
    case RNN__CELL_RNN_RELU: {
        __m512 a = _mm512_add_ps(_mm512_add_ps(LD(gx + j), LD(gh + j)), LD(b + j));
        a = k->cell == RNN__CELL_RNN_TANH ? vtanh(a) : _mm512_max_ps(a, _mm512_setzero_ps());
        _mm512_mask_storeu_ps(y + j, mk, OUT(a));
        return;
    }
    case RNN__CELL_LSTM: {
        __m512 g[4];
        for (int q = 0; q < 4; q++)
            g[q] = _mm512_add_ps(_mm512_add_ps(LD(gx + q * Hp + j), LD(gh + q * Hp + j)),
                                 LD(b + q * H + j));
        const __m512 i = vsigmoid(g[0]), f = vsigmoid(g[1]), cc = vtanh(g[2]),
                     o = vsigmoid(g[3]);
        const __m512 cp = c0 ? LD(c0 + j) : _mm512_setzero_ps();
        const __m512 c = _mm512_fmadd_ps(f, cp, _mm512_mul_ps(i, cc));
        _mm512_mask_storeu_ps(c1 + j, mk, c);
        _mm512_mask_storeu_ps(y + j, mk, OUT(_mm512_mul_ps(o, vtanh(c))));
        return;
    }
    case RNN__CELL_GRU:
    case RNN__CELL_LBR_GRU: {
        const int lbr = k->cell == RNN__CELL_LBR_GRU;
        const __m512 r = vsigmoid(
            _mm512_add_ps(_mm512_add_ps(LD(gx + Hp + j), LD(gh + Hp + j)), LD(b + H + j)));
        if (!lbr && phase == 0) {
            _mm512_mask_storeu_ps(rh + j, mk, OUT(_mm512_mul_ps(r, hp)));
            return;
        }
        const __m512 u = vsigmoid(
            _mm512_add_ps(_mm512_add_ps(LD(gx + j), LD(gh + j)), LD(b + j)));
        const __m512 rec = lbr ? _mm512_mul_ps(r, _mm512_add_ps(LD(gh + 2 * Hp + j),
                                                                LD(b + 3 * H + j)))
                               : LD(gh + 2 * Hp + j);
        const __m512 o = vtanh(_mm512_add_ps(_mm512_add_ps(LD(gx + 2 * Hp + j), LD(b + 2 * H + j)),
                                             rec));
        /* h = u h_prev + (1 - u) o */
        _mm512_mask_storeu_ps(
            y + j, mk, OUT(_mm512_fmadd_ps(u, hp, _mm512_mul_ps(_mm512_sub_ps(one, u), o))));
        return;
    }
    }
#undef OUT
#undef LD
}

/* out (N rows, ldo) = a (N rows of K) times panel q of the packed x (wx) or
 * h (wh) weights, in f32 or bf16. */
static void product(const rnn__step *k, int bf16, int of_h, int64_t q, const float *a, int N,
                    float *out)
{
    const int64_t K = of_h ? k->H : k->I, ldo = k->G * k->Hp;
    const void *panels = of_h ? k->pk[bf16].wh : k->pk[bf16].wx;
    if (bf16)
        panel_gemv_bf16((const uint16_t *)panels + q * ((K + 1) / 2) * PANEL * 2, K, a, K, N,
                        out, ldo);
    else
        panel_gemv((const float *)panels + q * K * PANEL, K, a, K, N, out, ldo);
}

/* Unit panel u (units [64 u, 64 u + 64)) of every gate, all samples: the
 * products of x with wx and h_prev with wh (for GRU's candidate, phase 1:
 * r*h_prev with wh), then the cell's element-wise step on those units. In
 * bf16, x and h_prev are the rounded copies xr and hr. */
__attribute__((target("avx512f"))) static void unit_panel(const rnn__step *k,
                                                           const rnn__rnn_weights *w,
                                                           const rnn__rnn_fwd *f, int phase,
                                                           int64_t u, int rev)
{
    const int64_t H = k->H, Hp = k->Hp, np = Hp / PANEL, ld = k->G * Hp;
    const int N = (int)f->N, gru = k->cell == RNN__CELL_GRU, bf16 = f->bf16 != 0;
    const float *x = bf16 ? k->xr.p : f->x, *h0 = f->h0 && bf16 ? k->hr.p : f->h0;
    for (int i = 0; i < k->G; i++) {
        const int g = rev ? k->G - 1 - i : i;
        const int64_t q = g * np + u; /* the panel's index in the packed arrays */
        if (phase == 1) {
            if (g == 2)
                product(k, bf16, 1, q, k->rh.p, N, k->gh.p + q * PANEL);
            continue;
        }
        /* the candidate's recurrent part of GRU needs r first (phase 1) */
        const int rec = !(gru && g == 2);
        for (int j = 0; j < 2; j++) { /* h's panel then x's; reversed, x's then h's */
            if (j != rev)
                product(k, bf16, 0, q, x, N, k->gx.p + q * PANEL);
            else if (rec && h0)
                product(k, bf16, 1, q, h0, N, k->gh.p + q * PANEL);
            else if (rec)
                for (int n = 0; n < N; n++)
                    memset(k->gh.p + n * ld + q * PANEL, 0, sizeof(float) * PANEL);
        }
    }
    float *c1 = f->cT ? f->cT : k->rh.p; /* LSTM's new cell state (rh is free there) */
    for (int n = 0; n < N; n++)
        for (int64_t j = u * PANEL; j < (u + 1) * PANEL && j < H; j += 16) {
            const __mmask16 mk = (__mmask16)(H - j >= 16 ? 0xffff : (1u << (H - j)) - 1);
            cell_units(k, gru ? phase : 1, k->gx.p + n * ld, k->gh.p + n * ld, w->b,
                       h0 ? h0 + n * H : NULL, f->c0 ? f->c0 + n * H : NULL, k->rh.p + n * H,
                       f->y + n * H, c1 + n * H, j, mk, bf16);
        }
}
#endif

rnn_status rnn__step_forward(rnn__step *k, const rnn__rnn_weights *w, const rnn__rnn_fwd *f)
{
#if STEP_X86
    rnn_status st;
    const int64_t H = k->H, Hp = k->Hp, N = f->N, ld = k->G * Hp, np = Hp / PANEL;
    if ((st = ensure_packed(k, f->bf16 != 0, w)) ||
        (st = rnn__fbuf_ensure(&k->gx, (size_t)(N * ld), 0)) ||
        (st = rnn__fbuf_ensure(&k->gh, (size_t)(N * ld), 0)) ||
        (st = rnn__fbuf_ensure(&k->rh, (size_t)(N * H), 0)))
        return st;
    if (f->bf16) { /* the products' x and h_prev, and the carried h_prev, in bf16 */
        if ((st = rnn__fbuf_ensure(&k->xr, (size_t)(N * k->I), 0)) ||
            (st = rnn__fbuf_ensure(&k->hr, (size_t)(N * H), 0)))
            return st;
        rnn__bf16_round_n(k->xr.p, f->x, (size_t)(N * k->I));
        if (f->h0)
            rnn__bf16_round_n(k->hr.p, f->h0, (size_t)(N * H));
    }
    const int two_phase = k->cell == RNN__CELL_GRU;
    /* The configured (or adaptive) thread count, as every primitive execution sets it: a
     * caller that reaches the backend without the model's rnn__threads_apply() (the raw
     * kernels of bench/kernel_bench) ran here on OpenMP's default count instead. */
    rnn__threads_apply();
    /* One parallel region, each thread on its own range of panels (the same on
     * every call, as static scheduling would give), walked backwards on odd calls;
     * GRU (reset_after false) needs r of every unit before its second phase: the
     * barrier between the phases. */
    const int rev = k->calls++ & 1;
#pragma omp parallel
    {
        const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t lo = t * np / nt, hi = (t + 1) * np / nt;
        for (int phase = 0; phase <= two_phase; phase++) {
            if (phase == 1) {
#pragma omp barrier
            }
            for (int64_t i = 0; i < hi - lo; i++)
                unit_panel(k, w, f, phase, rev ? hi - 1 - i : lo + i, rev);
        }
    }
    if (f->hT)
        memcpy(f->hT, f->y, sizeof(float) * (size_t)(N * H));
    return RNN_OK;
#else
    (void)k;
    (void)w;
    (void)f;
    return RNN__ERR(RNN_ERR_UNSUPPORTED, "the step kernel needs x86-64 (a bug: not eligible)");
#endif
}
