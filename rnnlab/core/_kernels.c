/* rnnlab's compiled passes: the forward and backward loops over time of the LSTM, the GRU, the vanilla cell,
 * the cells with leaky units, the IndRNN and the LRU; one call per run of steps.
 *
 * Loaded with ctypes by rnnlab/core/_compiled.py (which also passes the address of the BLAS's cblas_?gemm that
 * NumPy itself uses), so every matrix product is the one NumPy's matmul would call, and only the elementwise work
 * between the products is compiled here. ctypes releases the GIL for the whole call. The arithmetic follows
 * rnnlab/core/cells/lstm.py operation for operation, except that the compiler may fuse a product and a sum into
 * one rounding where the CPU has fused multiply–add (the build passes -ffp-contract=fast: measured, the float64
 * loops 8–9 % faster, float32 2 %). The other differences are tanh and the gates' σ, vectorisable functions of our own
 * below (the C library's are scalar, several times slower than NumPy's vectorised ones): tanh within 3 units in
 * the last place in float32 (0.5 on average) and 2.5 in float64; σ directly from one exponential (sig2_*), which is
 * also accurate where σ is tiny. The weight gradients are summed in another order (step by step).
 *
 * Layouts (C order; n = B·H):
 *   SX  (T + 1) rows t of B rows b: [x_t, 1, h_{t−1}, c_{t−1}] (sx_t, sx_b: strides in elements; I + 1 + 2H used)
 *   W3a (4, I + 1 + H, H)   the gates' scaled [W_hx, b_h, W_hh]ᵀ blocks (sigmoid gates ×½)
 *   Z (4, T, B, H);  dU (T, B, 4H) or one step's (B, 4H);  PC, dH (T, B, H);  W3 (4, H, H);
 *   scr, prod (4, B, H);  dc (B, H)
 * The module is also a (method-less) Python extension so that it installs and bundles like one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

/* C (M×N, ldc) = op(A) · B + beta C, row-major, op(A) = A (M×K, lda) or, with ta, Aᵀ for A (K×M, lda); through
 * the BLAS's cblas_sgemm / cblas_dgemm, whose integers are 64-bit (ilp64: OpenBLAS's "64_" builds, NumPy's) or
 * 32-bit */
#define GEMM(T_, SUF)                                                                                             \
    typedef void (*gemm32_##SUF)(int, int, int, int32_t, int32_t, int32_t, T_, const T_ *, int32_t, const T_ *,   \
                                 int32_t, T_, T_ *, int32_t);                                                     \
    typedef void (*gemm64_##SUF)(int, int, int, int64_t, int64_t, int64_t, T_, const T_ *, int64_t, const T_ *,   \
                                 int64_t, T_, T_ *, int64_t);                                                     \
    static void gemm_##SUF(void *fn, int ilp64, int ta, int64_t M, int64_t N, int64_t K, const T_ *A,             \
                           int64_t lda, const T_ *B, int64_t ldb, T_ beta, T_ *C, int64_t ldc) {                  \
        int t = ta ? TRANS : NO_TRANS;                                                                            \
        if (ilp64)                                                                                                \
            ((gemm64_##SUF)fn)(ROW_MAJOR, t, NO_TRANS, M, N, K, (T_)1, A, lda, B, ldb, beta, C, ldc);             \
        else                                                                                                      \
            ((gemm32_##SUF)fn)(ROW_MAJOR, t, NO_TRANS, (int32_t)M, (int32_t)N, (int32_t)K, (T_)1, A,              \
                               (int32_t)lda, B, (int32_t)ldb, beta, C, (int32_t)ldc);                             \
    }

GEMM(float, f32)
GEMM(double, f64)

/* e^y = 2ⁿ(1 + q) for −86 ≤ y ≤ 86 in float32, with q = expm1(r) kept apart (so that tanh forms e^y − 1
 * without cancellation): Cody–Waite reduction by ln 2 (|r| ≤ ln 2 / 2), q = r + r²·P(r) with the degree-5 P
 * of the exponential, and 2ⁿ put into the exponent bits (|n| ≤ 124: a normal number). Rounding to the nearest
 * integer adds and subtracts 1.5·2²³ (exact in round-to-nearest). Branch-free, so that a loop over a row
 * vectorises. */
static inline void exp_parts_f32(float y, float *p2n, float *q) {
    float n = (y * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = y - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    *q = p * r * r + r;
    int32_t bits = ((int32_t)n + 127) * (1 << 23);
    memcpy(p2n, &bits, 4);
}

/* tanh in float32: with e^{−2|x|} − 1 = 2ⁿq + (2ⁿ − 1) (|x| clamped to 9, where tanh is 1 in float32; 2ⁿ − 1
 * is exact), tanh |x| = −(e^{−2|x|} − 1)/(2 + e^{−2|x|} − 1), accurate from the smallest |x| on (one formula:
 * no series for small |x| beside it); then the sign of x. NaN stays NaN (an exploded state is reported, not
 * hidden). */
static inline float tanh_f32(float x) {
    float a = fabsf(x);
    float p2n, q;
    exp_parts_f32(-2.0f * (a < 9.0f ? a : 9.0f), &p2n, &q); /* (NaN gives 9 there, a finite exponent) */
    float m = p2n * q + (p2n - 1.0f);
    float t = -m / (2.0f + m);
    return x == x ? copysignf(t, x) : x;
}

/* The gate σ(2a) = ½ tanh(a) + ½ (a: the halved pre-activation of lstm.py's scaled weights) in float32, directly:
 * 1/(1 + e^{−2a}) with a clamped to [−43, 43] (e^{86} is finite), and 0 below a = −43 (σ(−86) is below float32's
 * smallest normal number). One exponential and one division, and relative accuracy also where σ is
 * tiny (NumPy's ½ tanh(a) + ½ is accurate only to float32's spacing near ½ there). NaN stays NaN. */
static inline float sig2_f32(float x) {
    float a = x < -43.0f ? -43.0f : (x > 43.0f ? 43.0f : x);
    float p2n, q;
    exp_parts_f32(-2.0f * a, &p2n, &q);
    float s = 1.0f / (1.0f + (p2n * q + p2n));
    s = x >= -43.0f ? s : 0.0f;
    return x == x ? s : x;
}

/* exp(y) for −708 ≤ y ≤ 0 in float64 as 2ⁿ and q = expm1(r), e^y = 2ⁿ(1 + q): Cody–Waite reduction by ln 2
 * (|r| ≤ ln 2 / 2) and the Taylor series of expm1 to r¹³ (the next term is below 2⁻⁵⁶ of r). Keeping expm1(r)
 * apart lets tanh form e^y − 1 without cancellation. Branch-free, so that a loop over a row vectorises. */
static inline void exp_parts_f64(double y, double *p2n, double *q) {
    /* n = round(y / ln 2) in the low bits of kd (1.5·2⁵² has an ulp of 1), read from there as an integer: a
     * double-to-int64 conversion would not vectorise without AVX-512DQ */
    double kd = y * 1.4426950408889634 + 6755399441055744.0;
    double n = kd - 6755399441055744.0;
    double r = y - n * 6.93147180369123816490e-01;
    r = r - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    *q = p * r * r + r;
    uint64_t kb;
    memcpy(&kb, &kd, 8);
    uint64_t bits = (kb - 0x4338000000000000ull + 1023u) << 52;
    memcpy(p2n, &bits, 8);
}

/* tanh in float64: with e = exp(−2|x|) = 2ⁿ(1 + q), e − 1 = 2ⁿq + (2ⁿ − 1) (exact but for one rounding, and
 * accurate for small |x| too, where it is q ≈ −2|x|), tanh|x| = −(e − 1)/((e − 1) + 2); |x| clamped to 20, where
 * tanh is 1 in float64; then the sign of x. NaN stays NaN. */
static inline double tanh_f64(double x) {
    double a = fabs(x);
    double p2n, q;
    exp_parts_f64(-2.0 * (a < 20.0 ? a : 20.0), &p2n, &q);
    double em1 = p2n * q + (p2n - 1.0);
    double t = -em1 / (em1 + 2.0);
    return x == x ? copysign(t, x) : x;
}

/* The gate σ(2x) = ½ tanh(x) + ½ in float64, directly as sig2_f32 does (|x| clamped to 354, where σ(−708) is
 * still a normal number; 0 below). NaN stays NaN. */
static inline double sig2_f64(double x) {
    double a = fabs(x);
    double p2n, q;
    exp_parts_f64(-2.0 * (a < 354.0 ? a : 354.0), &p2n, &q);
    double e = p2n * q + p2n;
    double r = 1.0 / (1.0 + e);
    double s = x >= 0.0 ? r : (x >= -354.0 ? e * r : 0.0);
    return x == x ? s : x;
}


/* The elementwise loops: never inlined (their restrict-qualified rows are what lets the compiler vectorise them;
 * inlined into the loop over steps they stayed scalar, measured), and in one clone per instruction set, chosen when
 * the library loads (gcc on x86-64 Linux; elsewhere the compiler's baseline). */
#if defined(_MSC_VER)
#define RNNLAB_NOINLINE __declspec(noinline)
#define restrict __restrict
#else
#define RNNLAB_NOINLINE __attribute__((noinline))
#endif
#ifndef RNNLAB_CLONES
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
/* 256 bits: AVX2 with fused multiply–add (x86-64-v3; AVX2 alone has none, and contracting needs it) where gcc
 * knows that level (12 and later), else AVX2 */
#if __GNUC__ >= 12
#define RNNLAB_AVX2_CLONE "arch=x86-64-v3"
#define RNNLAB_AVX2_CPU "x86-64-v3"
#else
#define RNNLAB_AVX2_CLONE "avx2"
#define RNNLAB_AVX2_CPU "avx2"
#endif
#define RNNLAB_CLONES RNNLAB_NOINLINE __attribute__((target_clones("avx512f", RNNLAB_AVX2_CLONE, "default")))
#define RNNLAB_HAVE_CLONES 1
#else
#define RNNLAB_CLONES RNNLAB_NOINLINE
#endif
#endif

/* The vector width, in bits, the elementwise loops run at on this CPU: the clone the loader chose, or what the
 * library was compiled for. rnnlab/core/_compiled.py uses the compiled path by default only from 256 bits (AVX2):
 * at SSE2's 128 its float64 loops were slower than NumPy's (measured). */
int rnnlab_kernels_simd(void) {
#if defined(RNNLAB_HAVE_CLONES)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return 512;
    if (__builtin_cpu_supports(RNNLAB_AVX2_CPU))
        return 256;
    return 128;
#elif defined(__AVX512F__)
    return 512;
#elif defined(__AVX2__)
    return 256;
#elif defined(__aarch64__) || defined(__ARM_NEON)
    return 128;
#else
    return 128;
#endif
}

/* One step's elementwise work for one row b (length H): gates from the scaled pre-activations a (a row of the
 * step's scratch, n apart), stored in z (gate-major, g apart), the new c and h (written into SX's next row) and
 * φ(c). (The derivatives the backward pass multiplies by are formed there, from these stored values: storing them
 * here cost more memory traffic than forming them twice.) */
#define LSTM_ROW(T_, SUF)                                                                                         \
    RNNLAB_CLONES static void lstm_row_##SUF(const T_ *restrict a, int64_t n, T_ *restrict zi, T_ *restrict zf,   \
                                             T_ *restrict zg, T_ *restrict zo, const T_ *restrict cp,             \
                                             T_ *restrict cn, T_ *restrict hn, T_ *restrict pc, int64_t H) {      \
        for (int64_t j = 0; j < H; j++) {                                                                         \
            T_ i = sig2_##SUF(a[j]);                                                                              \
            T_ f = sig2_##SUF(a[j + n]);                                                                          \
            T_ g = tanh_##SUF(a[j + 2 * n]);                                                                      \
            T_ o = sig2_##SUF(a[j + 3 * n]);                                                                      \
            T_ c = f * cp[j] + i * g;                                                                             \
            T_ p = tanh_##SUF(c);                                                                                 \
            zi[j] = i;                                                                                            \
            zf[j] = f;                                                                                            \
            zg[j] = g;                                                                                            \
            zo[j] = o;                                                                                            \
            cn[j] = c;                                                                                            \
            pc[j] = p;                                                                                            \
            hn[j] = o * p;                                                                                        \
        }                                                                                                         \
    }

/* One backward step for one row b: ∂E/∂h_t = the four products summed (+ dH[t]); ∂E/∂c_t = that ⊙ o φ'(c_t) +
 * the carried dc; ∂E/∂z_t = K ⊙ (∂E/∂c_t, ∂E/∂c_t, ∂E/∂c_t, ∂E/∂h_t) with K = [σ'_i g, σ'_f c_{t−1}, φ'_g i,
 * σ'_o φ(c_t)] (lstm.py's finish, the same operations); then dc = ∂E/∂c_t ⊙ f. */
#define LSTM_BACK_ROW(T_, SUF)                                                                                    \
    RNNLAB_CLONES static void lstm_back_##SUF(T_ *restrict prod, int64_t n, int first, const T_ *restrict dh_in,  \
                                              const T_ *restrict z, int64_t g, const T_ *restrict pc,             \
                                              const T_ *restrict cp, T_ *restrict dc, T_ *restrict du,            \
                                              int64_t H) { /* du: the row's [i, f, g, o] blocks, side by side */  \
        /* ∂E/∂h_t into prod's first block (each case its own loop, so that every loop vectorises) */             \
        if (first && dh_in)                                                                                       \
            for (int64_t j = 0; j < H; j++)                                                                       \
                prod[j] = dh_in[j];                                                                               \
        else if (first)                                                                                           \
            for (int64_t j = 0; j < H; j++)                                                                       \
                prod[j] = (T_)0;                                                                                  \
        else if (dh_in)                                                                                           \
            for (int64_t j = 0; j < H; j++)                                                                       \
                prod[j] = (((prod[j] + prod[j + n]) + prod[j + 2 * n]) + prod[j + 3 * n]) + dh_in[j];             \
        else                                                                                                      \
            for (int64_t j = 0; j < H; j++)                                                                       \
                prod[j] = ((prod[j] + prod[j + n]) + prod[j + 2 * n]) + prod[j + 3 * n];                          \
        for (int64_t j = 0; j < H; j++) {                                                                         \
            T_ d = prod[j];                                                                                       \
            T_ i = z[j], f = z[j + g], gg = z[j + 2 * g], o = z[j + 3 * g], p = pc[j];                            \
            T_ dct = d * (((T_)1 - p * p) * o);                                                                   \
            dct = dct + dc[j];                                                                                    \
            du[j] = ((T_)1 - i) * i * gg * dct;                                                                   \
            du[j + H] = ((T_)1 - f) * f * cp[j] * dct;                                                            \
            du[j + 2 * H] = ((T_)1 - gg * gg) * i * dct;                                                          \
            du[j + 3 * H] = ((T_)1 - o) * o * p * d;                                                              \
            dc[j] = dct * f;                                                                                      \
        }                                                                                                         \
    }

/* Forward steps t0 ≤ t < t1 of the rows b0 ≤ b < b1 (rows are independent: two threads may run two ranges).
 * The products go into the rows b0 ≤ b < b1 of scr (4, B, H), which stays in the cache from step to step; the
 * gates are then written into Z. (Written by the products straight into Z, the pass was 0.28 ms slower in float32:
 * each step's products then wrote 64 kB of memory not in the cache.) Returns 0. */
#define LSTM_FORWARD(T_, SUF)                                                                                     \
    LSTM_ROW(T_, SUF)                                                                                             \
    int rnnlab_lstm_forward_##SUF(int64_t t0, int64_t t1, int64_t b0, int64_t b1, int64_t T, int64_t B,         \
                                  int64_t I, int64_t H, T_ *SX, int64_t sx_t, int64_t sx_b, const T_ *W3a, T_ *Z, \
                                  T_ *PC, T_ *scr, void *gemm, int ilp64) {                                       \
        const int64_t D = I + 1 + H, n = B * H, g = T * n;                                                        \
        for (int64_t t = t0; t < t1; t++) {                                                                       \
            T_ *row = SX + t * sx_t, *next = row + sx_t;                                                          \
            for (int k = 0; k < 4; k++)                                                                           \
                gemm_##SUF(gemm, ilp64, 0, b1 - b0, H, D, row + b0 * sx_b, sx_b, W3a + k * D * H, H, 0,             \
                           scr + k * n + b0 * H, H);                                                              \
            for (int64_t b = b0; b < b1; b++) {                                                                   \
                int64_t o = t * n + b * H;                                                                        \
                lstm_row_##SUF(scr + b * H, n, Z + o, Z + g + o, Z + 2 * g + o, Z + 3 * g + o, row + b * sx_b + D,  \
                               next + b * sx_b + D, next + b * sx_b + I + 1, PC + o, H);                          \
            }                                                                                                     \
        }                                                                                                         \
        return 0;                                                                                                 \
    }

/* Backward steps t_hi ≥ t ≥ t_lo, writing ∂E/∂z_t into dU + t·du_t (B, 4H) (row b: the [i, f, g, o] blocks side by
 * side): du_t = B·4H fills a (T, B, 4H) array; du_t = 0 reuses one step's buffer, which stays in the cache, when
 * nothing after the pass reads ∂E/∂z (with G formed here; measured 0.3 ms faster in float32). ∂E/∂h_t arrives as
 * prod (the four gates' products from step t + 1, summed here) plus dH[t] where scored[t]; dc carries ∂E/∂c_t;
 * first: no step after t_hi (prod not read, G written rather than added to). While step t's ∂E/∂z is in the cache, G
 * (4H, gpad + I + 1 + H) += ∂E/∂z_tᵀ [p_t, x_t, 1, h_{t−1}] over the rows (the gradients of [W_hx, b_h, W_hh]; NULL:
 * not formed), where p_t are the gpad columns of SX before x_t, zeros that round the product's width to whole
 * vectors (a 137-wide product, 8 + 1 + 128, ran at the speed of a 150-wide one: its last 9 columns took a slow
 * path). After step t (t > 0) prod holds ∂E/∂z_t's blocks times W3's. Only the rows b0 ≤ b < b1 are done (of prod,
 * dc and G too), so that two threads may run two ranges, each with its own G. Returns 0. */
#define LSTM_BACKWARD(T_, SUF)                                                                                    \
    LSTM_BACK_ROW(T_, SUF)                                                                                        \
    int rnnlab_lstm_backward_##SUF(int64_t t_hi, int64_t t_lo, int64_t b0, int64_t b1, int64_t T, int64_t B,      \
                                   int64_t I, int64_t H,                                                          \
                                   const T_ *dH, const uint8_t *scored, const T_ *SX, int64_t sx_t, int64_t sx_b, \
                                   const T_ *Z, const T_ *PC, T_ *dU, const T_ *W3, T_ *prod, T_ *dc, T_ *G,      \
                                   int64_t du_t, int64_t gpad, int first, void *gemm, int ilp64) {                \
        const int64_t D = I + 1 + H, n = B * H, g = T * n, G4 = 4 * H, DG = gpad + D;                             \
        for (int64_t t = t_hi; t >= t_lo; t--) {                                                                  \
            for (int64_t b = b0; b < b1; b++) {                                                                   \
                int64_t o = t * n + b * H;                                                                        \
                lstm_back_##SUF(prod + b * H, n, first, scored[t] ? dH + o : NULL, Z + o, g, PC + o,              \
                                SX + t * sx_t + b * sx_b + D, dc + b * H, dU + t * du_t + b * G4, H);              \
            }                                                                                                     \
            if (G) /* gate by gate: (H × B)·(B × DG) products, each in OpenBLAS's unpacked small-matrix kernel */ \
                for (int k = 0; k < 4; k++)                                                                       \
                    gemm_##SUF(gemm, ilp64, 1, H, DG, b1 - b0, dU + t * du_t + b0 * G4 + k * H, G4,                \
                               SX + t * sx_t + b0 * sx_b - gpad, sx_b, first ? (T_)0 : (T_)1, G + k * H * DG, DG); \
            first = 0;                                                                                            \
            if (t == 0)                                                                                           \
                break;                                                                                            \
            for (int k = 0; k < 4; k++)                                                                           \
                gemm_##SUF(gemm, ilp64, 0, b1 - b0, H, H, dU + t * du_t + b0 * G4 + k * H, G4, W3 + k * H * H, H,   \
                           0, prod + k * n + b0 * H, H);                                                          \
        }                                                                                                         \
        return 0;                                                                                                 \
    }

/* The vanilla cell (rnn.py; also the orthogonal cell, which only derives its W_hh) and the cells with leaky units
 * (leaky.py: the leaky-integrator cell and the echo state network; antisymmetric.py): forward steps t0 ≤ t < t1 of
 * the rows b0 ≤ b < b1, a_t = h_{t−1} W_hhᵀ + u_t into A, then h_t = f(a_t) into S's next row; f by act: 0 tanh,
 * 1 ReLU, 2 the logistic sigmoid (as activations.py: (1 + tanh(a/2))/2), 3 linear. With F (leaky units): f(a_t)
 * into F and h_t = β ⊙ h_{t−1} + γ ⊙ f(a_t) (β, γ (H): the leaky cell's α and 1 − α, the antisymmetric cell's 1
 * and ε). With ud (the IndRNN's u (H)), a_t = u ⊙ h_{t−1} + u_t instead (WT unused). With D: f'(a_t) into D while
 * the row is in the cache (the NumPy path's pass after the loop), and with leaky units γ ⊙ f'(a_t) into Dk. S (T + 1,
 * B, H), A, U, F, D and Dk (T, B, H), WT = W_hhᵀ (H, H). Returns 0. */
#define RNN_ROW(T_, SUF)                                                                                          \
    RNNLAB_CLONES static void rnn_row_##SUF(T_ *restrict a, const T_ *restrict u, T_ *restrict h, int act,        \
                                            int64_t H) {                                                          \
        if (act == 0)                                                                                             \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ v = a[j] + u[j];                                                                               \
                a[j] = v;                                                                                         \
                h[j] = tanh_##SUF(v);                                                                             \
            }                                                                                                     \
        else if (act == 1)                                                                                        \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ v = a[j] + u[j];                                                                               \
                a[j] = v;                                                                                         \
                h[j] = v < (T_)0 ? (T_)0 : v;                                                                     \
            }                                                                                                     \
        else if (act == 2)                                                                                        \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ v = a[j] + u[j];                                                                               \
                a[j] = v;                                                                                         \
                h[j] = (tanh_##SUF(v * (T_)0.5) + (T_)1) * (T_)0.5;                                               \
            }                                                                                                     \
        else                                                                                                      \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ v = a[j] + u[j];                                                                               \
                a[j] = v;                                                                                         \
                h[j] = v;                                                                                         \
            }                                                                                                     \
    }                                                                                                             \
    /* h = β ⊙ h_{t−1} + γ ⊙ f (the leaky units' step) */                                                         \
    RNNLAB_CLONES static void leak_row_##SUF(const T_ *restrict f, const T_ *restrict hp, const T_ *restrict beta, \
                                             const T_ *restrict gamma, T_ *restrict h, int64_t H) {               \
        for (int64_t j = 0; j < H; j++)                                                                           \
            h[j] = beta[j] * hp[j] + gamma[j] * f[j];                                                             \
    }                                                                                                             \
    /* a = u ⊙ h_{t−1} (the IndRNN's diagonal recurrence) */                                                      \
    RNNLAB_CLONES static void diag_row_##SUF(const T_ *restrict hp, const T_ *restrict ud, T_ *restrict a,        \
                                             int64_t H) {                                                         \
        for (int64_t j = 0; j < H; j++)                                                                           \
            a[j] = hp[j] * ud[j];                                                                                 \
    }                                                                                                             \
    /* f'(a) from a and f = f(a) into d, as activations.py's df does (tanh 1 − f², ReLU a > 0, the logistic sigmoid \
     * (1 − f) f, linear 1); with gamma (leaky units) also γ ⊙ f'(a) into dk */                                   \
    RNNLAB_CLONES static void deriv_row_##SUF(const T_ *restrict a, const T_ *restrict f, const T_ *restrict gamma, \
                                              T_ *restrict d, T_ *restrict dk, int act, int64_t H) {              \
        if (act == 0)                                                                                             \
            for (int64_t j = 0; j < H; j++)                                                                       \
                d[j] = (T_)1 - f[j] * f[j];                                                                       \
        else if (act == 1)                                                                                        \
            for (int64_t j = 0; j < H; j++)                                                                       \
                d[j] = a[j] > (T_)0 ? (T_)1 : (T_)0;                                                              \
        else if (act == 2)                                                                                        \
            for (int64_t j = 0; j < H; j++)                                                                       \
                d[j] = ((T_)1 - f[j]) * f[j];                                                                     \
        else                                                                                                      \
            for (int64_t j = 0; j < H; j++)                                                                       \
                d[j] = (T_)1;                                                                                     \
        if (gamma)                                                                                                \
            for (int64_t j = 0; j < H; j++)                                                                       \
                dk[j] = d[j] * gamma[j];                                                                          \
    }                                                                                                             \
    int rnnlab_rnn_forward_##SUF(int64_t t0, int64_t t1, int64_t b0, int64_t b1, int64_t B, int64_t H, T_ *S,     \
                                 T_ *A, const T_ *U, const T_ *WT, const T_ *ud, int act, T_ *F, const T_ *beta,  \
                                 const T_ *gamma, T_ *D, T_ *Dk, void *gemm, int ilp64) {                         \
        const int64_t n = B * H;                                                                                  \
        for (int64_t t = t0; t < t1; t++) {                                                                       \
            if (ud)                                                                                               \
                for (int64_t b = b0; b < b1; b++)                                                                 \
                    diag_row_##SUF(S + t * n + b * H, ud, A + t * n + b * H, H);                                  \
            else                                                                                                  \
                gemm_##SUF(gemm, ilp64, 0, b1 - b0, H, H, S + t * n + b0 * H, H, WT, H, 0, A + t * n + b0 * H,    \
                           H);                                                                                    \
            for (int64_t b = b0; b < b1; b++) {                                                                   \
                int64_t o = t * n + b * H;                                                                        \
                if (F) {                                                                                          \
                    rnn_row_##SUF(A + o, U + o, F + o, act, H);                                                   \
                    leak_row_##SUF(F + o, S + o, beta, gamma, S + n + o, H);                                      \
                } else                                                                                            \
                    rnn_row_##SUF(A + o, U + o, S + n + o, act, H);                                               \
                if (D)                                                                                            \
                    deriv_row_##SUF(A + o, (F ? F : S + n) + o, F ? gamma : NULL, D + o, F ? Dk + o : NULL, act, H); \
            }                                                                                                     \
        }                                                                                                         \
        return 0;                                                                                                 \
    }

/* The vanilla cell's backward steps t_hi ≥ t ≥ t_lo of the rows b0 ≤ b < b1: ds (B, H) carries ∂E/∂h_t; + dH[t]
 * where scored[t]; ∂E/∂a_t = ds ⊙ D[t] into dU[t] (D: f'(a_t), or with leaky units γ ⊙ f'(a_t)); G (H, H) +=
 * ∂E/∂a_tᵀ h_{t−1} over these rows, while they are in the cache (h_{t−1} = S[t]; ∂E/∂W_hh, written rather than added
 * to on a thread's first step: first; NULL: not formed); then ds = ∂E/∂a_t W_hh (for t > 0), with leaky units
 * (beta: β (H), else NULL) ds ⊙ β + ∂E/∂a_t W_hh, and for the IndRNN (ud: its u (H), else NULL; W unused)
 * ∂E/∂a_t ⊙ u. Returns 0. */
#define RNN_BACKWARD(T_, SUF)                                                                                     \
    RNNLAB_CLONES static void rnn_back_row_##SUF(T_ *restrict ds, const T_ *restrict dh, const T_ *restrict d,    \
                                                 T_ *restrict du, int64_t H) {                                    \
        if (dh)                                                                                                   \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ v = ds[j] + dh[j];                                                                             \
                du[j] = v * d[j];                                                                                 \
            }                                                                                                     \
        else                                                                                                      \
            for (int64_t j = 0; j < H; j++)                                                                       \
                du[j] = ds[j] * d[j];                                                                             \
    }                                                                                                             \
    /* leaky units: also ds ⊙ β into ds (the product with W_hh is then added to it) */                            \
    RNNLAB_CLONES static void leak_back_row_##SUF(T_ *restrict ds, const T_ *restrict dh, const T_ *restrict d,   \
                                                  const T_ *restrict beta, T_ *restrict du, int64_t H) {          \
        if (dh)                                                                                                   \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ v = ds[j] + dh[j];                                                                             \
                du[j] = v * d[j];                                                                                 \
                ds[j] = v * beta[j];                                                                              \
            }                                                                                                     \
        else                                                                                                      \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ v = ds[j];                                                                                     \
                du[j] = v * d[j];                                                                                 \
                ds[j] = v * beta[j];                                                                              \
            }                                                                                                     \
    }                                                                                                             \
    /* the IndRNN: ds = ∂E/∂a_t ⊙ u, the diagonal recurrence's product, in the same pass */                       \
    RNNLAB_CLONES static void diag_back_row_##SUF(T_ *restrict ds, const T_ *restrict dh, const T_ *restrict d,   \
                                                  const T_ *restrict ud, T_ *restrict du, int64_t H) {            \
        if (dh)                                                                                                   \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ v = (ds[j] + dh[j]) * d[j];                                                                    \
                du[j] = v;                                                                                        \
                ds[j] = v * ud[j];                                                                                \
            }                                                                                                     \
        else                                                                                                      \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ v = ds[j] * d[j];                                                                              \
                du[j] = v;                                                                                        \
                ds[j] = v * ud[j];                                                                                \
            }                                                                                                     \
    }                                                                                                             \
    int rnnlab_rnn_backward_##SUF(int64_t t_hi, int64_t t_lo, int64_t b0, int64_t b1, int64_t B, int64_t H,       \
                                  const T_ *dH, const uint8_t *scored, const T_ *D, T_ *dU, const T_ *W, T_ *ds,  \
                                  const T_ *S, T_ *G, const T_ *beta, const T_ *ud, int first, void *gemm,        \
                                  int ilp64) {                                                                    \
        const int64_t n = B * H;                                                                                  \
        for (int64_t t = t_hi; t >= t_lo; t--) {                                                                  \
            for (int64_t b = b0; b < b1; b++) {                                                                   \
                int64_t o = t * n + b * H;                                                                        \
                if (ud)                                                                                           \
                    diag_back_row_##SUF(ds + b * H, scored[t] ? dH + o : NULL, D + o, ud, dU + o, H);             \
                else if (beta)                                                                                    \
                    leak_back_row_##SUF(ds + b * H, scored[t] ? dH + o : NULL, D + o, beta, dU + o, H);           \
                else                                                                                              \
                    rnn_back_row_##SUF(ds + b * H, scored[t] ? dH + o : NULL, D + o, dU + o, H);                  \
            }                                                                                                     \
            if (G) {                                                                                              \
                gemm_##SUF(gemm, ilp64, 1, H, H, b1 - b0, dU + t * n + b0 * H, H, S + t * n + b0 * H, H,           \
                           first ? (T_)0 : (T_)1, G, H);                                                          \
                first = 0;                                                                                        \
            }                                                                                                     \
            if (t > 0 && !ud)                                                                                     \
                gemm_##SUF(gemm, ilp64, 0, b1 - b0, H, H, dU + t * n + b0 * H, H, W, H, beta ? (T_)1 : (T_)0,     \
                           ds + b0 * H, H);                                                                       \
        }                                                                                                         \
        return 0;                                                                                                 \
    }

/* The GRU (gru.py), both variants, with φ = tanh. Layouts: S (T + 1, B, H); U (3, T, B, H), the scaled input
 * projection (z, r, n, the halving of σ folded in as gru.py does); Z (4, T, B, H): z, r, then r ⊙ h_{t−1} (Cho) or
 * q = U_n h_{t−1} + b_hn (reset after), then n; W3Ts (3, H, H): ½U_zᵀ, ½U_rᵀ, U_nᵀ; W3 (3, H, H): U_z, U_r, U_n;
 * scr (4, B, H): one step's products, which stay in the cache. */
#define GRU_ROWS(T_, SUF)                                                                                         \
    /* z, r from the products pz, pr and the projections uz, ur; then r ⊙ h_{t−1} (Cho: bhn NULL) or q = pq +   \
     * b_hn into m */                                                                                             \
    RNNLAB_CLONES static void gru_zr_##SUF(const T_ *restrict pz, const T_ *restrict pr, const T_ *restrict pq,   \
                                           const T_ *restrict uz, const T_ *restrict ur, const T_ *restrict bhn,  \
                                           const T_ *restrict hp, T_ *restrict z, T_ *restrict r,                 \
                                           T_ *restrict m, int64_t H) {                                           \
        if (bhn)                                                                                                  \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                z[j] = sig2_##SUF(pz[j] + uz[j]);                                                                 \
                r[j] = sig2_##SUF(pr[j] + ur[j]);                                                                 \
                m[j] = pq[j] + bhn[j];                                                                            \
            }                                                                                                     \
        else                                                                                                      \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ rr = sig2_##SUF(pr[j] + ur[j]);                                                                \
                z[j] = sig2_##SUF(pz[j] + uz[j]);                                                                 \
                r[j] = rr;                                                                                        \
                m[j] = rr * hp[j];                                                                                \
            }                                                                                                     \
    }                                                                                                             \
    /* n = φ(a_n) with a_n = pn + un (Cho: pn the product of r ⊙ h_{t−1}) or r ⊙ q + un (reset after: r given), \
     * then h_t = (h_{t−1} − n) z + n */                                                                          \
    RNNLAB_CLONES static void gru_n_##SUF(const T_ *restrict pn, const T_ *restrict r, const T_ *restrict q,      \
                                          const T_ *restrict un, const T_ *restrict z, const T_ *restrict hp,     \
                                          T_ *restrict n, T_ *restrict h, int64_t H) {                            \
        if (r)                                                                                                    \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ nn = tanh_##SUF(r[j] * q[j] + un[j]);                                                          \
                n[j] = nn;                                                                                        \
                h[j] = (hp[j] - nn) * z[j] + nn;                                                                  \
            }                                                                                                     \
        else                                                                                                      \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ nn = tanh_##SUF(pn[j] + un[j]);                                                                \
                n[j] = nn;                                                                                        \
                h[j] = (hp[j] - nn) * z[j] + nn;                                                                  \
            }                                                                                                     \
    }                                                                                                             \
    /* One backward row of step t: ∂E/∂h_t = the products of step t + 1 summed, + dh z_{t+1} (+ drh r_{t+1} for \
     * Cho) (not on a thread's first step: first), + dH[t] where scored (dh_in); kept in dh; then ∂E/∂a_z =      \
     * ∂E/∂h_t (1 − z) z (h_{t−1} − n) into dz and ∂E/∂a_n = ∂E/∂h_t (1 − n²)(1 − z) into dn; reset after also \
     * ∂E/∂a_r = ∂E/∂a_n (1 − r) r q into dr and ∂E/∂q = ∂E/∂a_n r into dq (gru.py's finish and backward loop,  \
     * the same operations). nprod: the products' blocks (n apart). */                                           \
    RNNLAB_CLONES static void gru_back_##SUF(const T_ *restrict prod, int64_t n, int nprod, int first,            \
                                             const T_ *restrict z1, const T_ *restrict r1,                        \
                                             const T_ *restrict drh, const T_ *restrict dh_in, T_ *restrict dh,   \
                                             const T_ *restrict z, const T_ *restrict r, const T_ *restrict m,    \
                                             const T_ *restrict nv, const T_ *restrict hp, T_ *restrict dz,       \
                                             T_ *restrict dr, T_ *restrict dq, T_ *restrict dn, int after,        \
                                             int64_t H) {                                                         \
        if (first)                                                                                                \
            for (int64_t j = 0; j < H; j++)                                                                       \
                dh[j] = (T_)0;                                                                                    \
        else if (nprod == 3)                                                                                      \
            for (int64_t j = 0; j < H; j++)                                                                       \
                dh[j] = ((prod[j] + prod[j + n]) + prod[j + 2 * n]) + dh[j] * z1[j];                              \
        else                                                                                                      \
            for (int64_t j = 0; j < H; j++)                                                                       \
                dh[j] = ((prod[j] + prod[j + n]) + dh[j] * z1[j]) + drh[j] * r1[j];                               \
        if (dh_in)                                                                                                \
            for (int64_t j = 0; j < H; j++)                                                                       \
                dh[j] = dh[j] + dh_in[j];                                                                         \
        for (int64_t j = 0; j < H; j++) {                                                                         \
            T_ d = dh[j], zz = z[j], nn = nv[j];                                                                  \
            dz[j] = d * (((T_)1 - zz) * zz * (hp[j] - nn));                                                       \
            dn[j] = d * (((T_)1 - nn * nn) * ((T_)1 - zz));                                                       \
        }                                                                                                         \
        if (after)                                                                                                \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ rr = r[j];                                                                                     \
                dr[j] = dn[j] * (((T_)1 - rr) * rr * m[j]);                                                       \
                dq[j] = dn[j] * rr;                                                                               \
            }                                                                                                     \
    }                                                                                                             \
    /* Cho: ∂E/∂a_r = ∂E/∂(r ⊙ h_{t−1}) (1 − r) r h_{t−1} */                                                      \
    RNNLAB_CLONES static void gru_dr_##SUF(const T_ *restrict drh, const T_ *restrict r, const T_ *restrict hp,   \
                                           T_ *restrict dr, int64_t H) {                                          \
        for (int64_t j = 0; j < H; j++) {                                                                         \
            T_ rr = r[j];                                                                                         \
            dr[j] = drh[j] * (((T_)1 - rr) * rr * hp[j]);                                                         \
        }                                                                                                         \
    }

/* GRU forward steps t0 ≤ t < t1 of the rows b0 ≤ b < b1 (after: the reset-after variant, with b_hn). Returns 0. */
#define GRU_FORWARD(T_, SUF)                                                                                      \
    int rnnlab_gru_forward_##SUF(int64_t t0, int64_t t1, int64_t b0, int64_t b1, int64_t T, int64_t B, int64_t H, \
                                 int after, T_ *S, const T_ *U, const T_ *W3Ts, const T_ *bhn, T_ *Z, T_ *scr,    \
                                 void *gemm, int ilp64) {                                                         \
        const int64_t n = B * H, g = T * n, rows = b1 - b0;                                                       \
        for (int64_t t = t0; t < t1; t++) {                                                                       \
            const T_ *hp = S + t * n;                                                                             \
            T_ *hn = S + (t + 1) * n;                                                                             \
            for (int k = 0; k < (after ? 3 : 2); k++)                                                             \
                gemm_##SUF(gemm, ilp64, 0, rows, H, H, hp + b0 * H, H, W3Ts + k * H * H, H, 0,                     \
                           scr + k * n + b0 * H, H);                                                              \
            for (int64_t b = b0; b < b1; b++) {                                                                   \
                int64_t o = t * n + b * H, q = b * H;                                                             \
                gru_zr_##SUF(scr + q, scr + n + q, scr + 2 * n + q, U + o, U + g + o, after ? bhn : NULL,          \
                             hp + q, Z + o, Z + g + o, Z + 2 * g + o, H);                                         \
            }                                                                                                     \
            if (!after) /* the candidate's product, of r ⊙ h_{t−1} */                                             \
                gemm_##SUF(gemm, ilp64, 0, rows, H, H, Z + 2 * g + t * n + b0 * H, H, W3Ts + 2 * H * H, H, 0,      \
                           scr + 3 * n + b0 * H, H);                                                              \
            for (int64_t b = b0; b < b1; b++) {                                                                   \
                int64_t o = t * n + b * H, q = b * H;                                                             \
                gru_n_##SUF(scr + 3 * n + q, after ? Z + g + o : NULL, Z + 2 * g + o, U + 2 * g + o, Z + o,        \
                            hp + q, Z + 3 * g + o, hn + q, H);                                                    \
            }                                                                                                     \
        }                                                                                                         \
        return 0;                                                                                                 \
    }

/* GRU backward steps t_hi ≥ t ≥ t_lo of the rows b0 ≤ b < b1, writing ∂E/∂a_z, ∂E/∂a_r, (∂E/∂q,) ∂E/∂a_n, the
 * blocks of dU gdu apart, step t's at dU + t·du_t (gate-major (3 or, reset after, 4, T, B, H): gdu = T·B·H,
 * du_t = B·H; or one step's (3 or 4, B, H), reused: gdu = B·H, du_t = 0). dh (B, H) carries ∂E/∂h_t, drh (B, H)
 * ∂E/∂(r ⊙ h_{t−1}) (Cho), prod (3, B, H) the products of ∂E/∂a_z, ∂E/∂a_r (and ∂E/∂q) with U_z, U_r (and U_n)
 * from step t + 1; first: no step after t_hi (and the sums below written rather than added to). While the step's
 * rows are in the cache: G (3, H, H) += the gradients of U_z, U_r, U_n over these rows, ∂E/∂a_zᵀ h_{t−1},
 * ∂E/∂a_rᵀ h_{t−1}, and ∂E/∂a_nᵀ (r ⊙ h_{t−1}) (Cho) or ∂E/∂qᵀ h_{t−1} (reset after); Gin (3 or 4, H, xa_w) +=
 * each block of dU times the rows of XA (T, B, xa_w), [zeros, x_t, 1] (the inputs' and biases' gradients; the
 * zeros round the products' width to whole vectors). G, Gin NULL: not formed. Returns 0. */
#define GRU_BACKWARD(T_, SUF)                                                                                     \
    int rnnlab_gru_backward_##SUF(int64_t t_hi, int64_t t_lo, int64_t b0, int64_t b1, int64_t T, int64_t B,       \
                                  int64_t H, int after, const T_ *dH, const uint8_t *scored, const T_ *S,         \
                                  const T_ *Z, T_ *dU, int64_t gdu, int64_t du_t, const T_ *W3, T_ *dh, T_ *drh,  \
                                  T_ *prod, T_ *G, const T_ *XA, int64_t xa_w, T_ *Gin, int first, void *gemm,    \
                                  int ilp64) {                                                                    \
        const int64_t n = B * H, g = T * n, rows = b1 - b0;                                                       \
        const int nb = after ? 4 : 3, np_ = after ? 3 : 2;                                                        \
        for (int64_t t = t_hi; t >= t_lo; t--) {                                                                  \
            T_ *du = dU + t * du_t; /* (step t's blocks, gdu apart) */                                            \
            for (int64_t b = b0; b < b1; b++) {                                                                   \
                int64_t o = t * n + b * H, q = b * H, o1 = o + n; /* (row b of step t + 1) */                     \
                gru_back_##SUF(prod + q, n, np_, first, first ? NULL : Z + o1, first ? NULL : Z + g + o1,          \
                               drh + q, scored[t] ? dH + o : NULL, dh + q, Z + o, Z + g + o, Z + 2 * g + o,        \
                               Z + 3 * g + o, S + o, du + q, du + gdu + q, after ? du + 2 * gdu + q : NULL,       \
                               du + (nb - 1) * gdu + q, after, H);                                                \
            }                                                                                                     \
            if (!after) { /* ∂E/∂(r ⊙ h_{t−1}) = ∂E/∂a_n U_n, then ∂E/∂a_r */                                     \
                gemm_##SUF(gemm, ilp64, 0, rows, H, H, du + 2 * gdu + b0 * H, H, W3 + 2 * H * H, H, 0,            \
                           drh + b0 * H, H);                                                                      \
                for (int64_t b = b0; b < b1; b++)                                                                 \
                    gru_dr_##SUF(drh + b * H, Z + g + t * n + b * H, S + t * n + b * H, du + gdu + b * H, H);     \
            }                                                                                                     \
            if (G) /* (H × B)·(B × H) products in the small-matrix kernel: ∂E/∂a_n (Cho) or ∂E/∂q is block 2 */   \
                for (int k = 0; k < 3; k++)                                                                       \
                    gemm_##SUF(gemm, ilp64, 1, H, H, rows, du + k * gdu + b0 * H, H,                              \
                               (k == 2 && !after ? Z + 2 * g : S) + t * n + b0 * H, H, first ? (T_)0 : (T_)1,      \
                               G + k * H * H, H);                                                                 \
            if (Gin)                                                                                              \
                for (int k = 0; k < nb; k++)                                                                      \
                    gemm_##SUF(gemm, ilp64, 1, H, xa_w, rows, du + k * gdu + b0 * H, H, XA + (t * B + b0) * xa_w, \
                               xa_w, first ? (T_)0 : (T_)1, Gin + k * H * xa_w, xa_w);                            \
            first = 0;                                                                                            \
            if (t == 0)                                                                                           \
                break;                                                                                            \
            for (int k = 0; k < np_; k++)                                                                         \
                gemm_##SUF(gemm, ilp64, 0, rows, H, H, du + k * gdu + b0 * H, H, W3 + k * H * H, H, 0,            \
                           prod + k * n + b0 * H, H);                                                             \
        }                                                                                                         \
        return 0;                                                                                                 \
    }

/* The LRU (lru.py): its recurrence x_t = λ ⊙ x_{t−1} + u_t is diagonal and linear, one complex number per unit, and
 * nothing else in the step depends on x_{t−1}: the loops here do only that recurrence, and lru.py the output's
 * products (a_t = Re(C x_t) + …, and the readout's injection C ∂E/∂a_t backward) for all steps at once.
 * S (T + 1, B, 2H): rows [x_re, x_im]; U (T, B, 3H): rows [u_re, u_im, ·]; lr, li (H): Re λ, Im λ. Forward steps
 * t0 ≤ t < t1 of the rows b0 ≤ b < b1, the operations of lru.py's loop:
 *   x_re = x_re,t−1 Re λ + x_im,t−1 (−Im λ) + u_re,   x_im = x_im,t−1 Re λ + x_re,t−1 Im λ + u_im.
 * Backward steps t_hi ≥ t ≥ t_lo: ∂E/∂x_t = ∂E/∂x_{t+1} · diag(λ) (each 2×2 block transposed) + INJ[t] into the
 * first 2H columns of dU (T, B, 3H) (its last H, ∂E/∂a_t, lru.py writes), where INJ (T, B, 2H) is the readout's
 * injection [∂E/∂a_t C_re, −∂E/∂a_t C_im]; first: t_hi = T − 1 (no step after it); and, while g_t and x_{t−1} are in
 * the cache, the sums over these rows of ∂E/∂λ's parts into acc (2, H) (written on a thread's first call, added to
 * after). Both return 0. */
#define LRU_LOOPS(T_, SUF)                                                                                        \
    RNNLAB_CLONES static void lru_row_##SUF(const T_ *restrict xp, const T_ *restrict u, const T_ *restrict lr,   \
                                            const T_ *restrict li, T_ *restrict x, int64_t H) {                   \
        for (int64_t j = 0; j < H; j++) {                                                                         \
            T_ r = xp[j], i = xp[j + H];                                                                          \
            x[j] = (r * lr[j] + i * (-li[j])) + u[j];                                                             \
            x[j + H] = (i * lr[j] + r * li[j]) + u[j + H];                                                        \
        }                                                                                                         \
    }                                                                                                             \
    int rnnlab_lru_forward_##SUF(int64_t t0, int64_t t1, int64_t b0, int64_t b1, int64_t B, int64_t H, T_ *S,     \
                                 const T_ *U, const T_ *lr, const T_ *li) {                                       \
        const int64_t ns = B * 2 * H, nu = B * 3 * H;                                                             \
        for (int64_t t = t0; t < t1; t++)                                                                         \
            for (int64_t b = b0; b < b1; b++)                                                                     \
                lru_row_##SUF(S + t * ns + b * 2 * H, U + t * nu + b * 3 * H, lr, li,                             \
                              S + (t + 1) * ns + b * 2 * H, H);                                                   \
        return 0;                                                                                                 \
    }                                                                                                             \
    /* g = g_{t+1} · diag(λ) + inj; then ∂E/∂λ's sums: acc[0] += g_re x_re,t−1 + g_im x_im,t−1 (Re λ), acc[1] +=  \
     * g_im x_re,t−1 − g_re x_im,t−1 (Im λ) */                                                                    \
    RNNLAB_CLONES static void lru_back_row_##SUF(const T_ *restrict g1, const T_ *restrict inj,                   \
                                                 const T_ *restrict lr, const T_ *restrict li, T_ *restrict g,    \
                                                 const T_ *restrict xp, T_ *restrict acc, int64_t H) {            \
        if (g1)                                                                                                   \
            for (int64_t j = 0; j < H; j++) {                                                                     \
                T_ r = g1[j], i = g1[j + H];                                                                      \
                g[j] = (r * lr[j] + i * li[j]) + inj[j];                                                          \
                g[j + H] = (i * lr[j] + r * (-li[j])) + inj[j + H];                                               \
            }                                                                                                     \
        else                                                                                                      \
            for (int64_t j = 0; j < 2 * H; j++)                                                                   \
                g[j] = inj[j];                                                                                    \
        for (int64_t j = 0; j < H; j++) {                                                                         \
            T_ gr = g[j], gi = g[j + H], xr = xp[j], xi = xp[j + H];                                              \
            acc[j] += gr * xr + gi * xi;                                                                          \
            acc[j + H] += gi * xr - gr * xi;                                                                      \
        }                                                                                                         \
    }                                                                                                             \
    int rnnlab_lru_backward_##SUF(int64_t t_hi, int64_t t_lo, int64_t b0, int64_t b1, int64_t B, int64_t H,       \
                                  T_ *dU, const T_ *INJ, const T_ *lr, const T_ *li, const T_ *S, T_ *acc,        \
                                  int first) {                                                                    \
        const int64_t ns = B * 2 * H, nu = B * 3 * H;                                                             \
        if (first)                                                                                                \
            for (int64_t j = 0; j < 2 * H; j++)                                                                   \
                acc[j] = (T_)0;                                                                                   \
        for (int64_t t = t_hi; t >= t_lo; t--) {                                                                  \
            for (int64_t b = b0; b < b1; b++)                                                                     \
                lru_back_row_##SUF(first ? NULL : dU + (t + 1) * nu + b * 3 * H, INJ + t * ns + b * 2 * H, lr,    \
                                   li, dU + t * nu + b * 3 * H, S + t * ns + b * 2 * H, acc, H);                  \
            first = 0;                                                                                            \
        }                                                                                                         \
        return 0;                                                                                                 \
    }

RNN_ROW(float, f32)
RNN_ROW(double, f64)
RNN_BACKWARD(float, f32)
RNN_BACKWARD(double, f64)

LSTM_FORWARD(float, f32)
LSTM_FORWARD(double, f64)
LSTM_BACKWARD(float, f32)
LSTM_BACKWARD(double, f64)

GRU_ROWS(float, f32)
GRU_ROWS(double, f64)
GRU_FORWARD(float, f32)
GRU_FORWARD(double, f64)
GRU_BACKWARD(float, f32)
GRU_BACKWARD(double, f64)

LRU_LOOPS(float, f32)
LRU_LOOPS(double, f64)

/* tanh and the gate σ(2x) of n values (the tests compare them with exact ones) */
#define ELEMENTWISE(T_, SUF)                                                                                      \
    void rnnlab_tanh_##SUF(const T_ *x, T_ *y, int64_t n) {                                                       \
        for (int64_t j = 0; j < n; j++)                                                                           \
            y[j] = tanh_##SUF(x[j]);                                                                              \
    }                                                                                                             \
    void rnnlab_sig2_##SUF(const T_ *x, T_ *y, int64_t n) {                                                       \
        for (int64_t j = 0; j < n; j++)                                                                           \
            y[j] = sig2_##SUF(x[j]);                                                                              \
    }

ELEMENTWISE(float, f32)
ELEMENTWISE(double, f64)

#ifndef RNNLAB_KERNELS_SOURCE
#define RNNLAB_KERNELS_SOURCE 0ULL
#endif
/* which source this library was built from (hatch_build.py's digest; 0: unknown) */
uint64_t rnnlab_kernels_source(void) { return RNNLAB_KERNELS_SOURCE; }

static struct PyModuleDef kernels_module = {PyModuleDef_HEAD_INIT, "_kernels",
                                            "rnnlab's compiled LSTM passes (called through ctypes).", -1, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernels_module); }
