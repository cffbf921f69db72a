// Logic checks of the kernels written in session 19 after its GPU time was spent (run by kernels/emu/run.sh and
// KernelEmulationTest): each new kernel against the GPU-validated kernels it replaces, on the CPU (cuda_runtime.h here).
//   max_pool_argmax + max_pool_bwd_idx  vs  max_pool_bwd            (bit for bit: same argmax rule, same sum order)
//   channel_affine_bwd + _finish        vs  relu_bwd, channel_dot, channel_affine (dx bit for bit; sums within
//                                           1e-6 relative: double sums in another order, rounded to float)
//   relu_fwd_v4, relu_bwd_v4, scale_f32_v4, add_scaled_v4  vs  the scalar kernels (bit for bit)
#include "../elementwise.cu"
#include "../reduce.cu"
#include "../pool.cu"
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

static int failures = 0;
static std::mt19937 rng(19);

static void check(bool ok, const char* what, double worst) {
    std::printf("%s %s (worst %.3g)\n", ok ? "ok  " : "FAIL", what, worst);
    if (!ok) failures++;
}

// grid-stride kernels (FOR_N) give the same result for any grid: a small one keeps the emulation's thread count low
static unsigned grid(long long) { return 4; }
static const unsigned STRIDED = 32;

// out size as PyTorch: floor, or ceil with the last window starting inside the padded input
static int poolOut(int in, int k, int s, int p, int d, bool ceil) {
    int span = in + 2 * p - d * (k - 1) - 1, o = (ceil ? (span + s - 1) / s : span / s) + 1;
    if (ceil && (o - 1) * s >= in + p) o--;
    return o;
}

static void maxPool(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, bool ceil, bool ties, bool nan) {
    int oh = poolOut(h, kh, sh, ph, dh, ceil), ow = poolOut(w, kw, sw, pw, dw, ceil), planes = n * c;
    std::vector<float> x((size_t)planes * h * w), dy((size_t)planes * oh * ow), dxOld(x.size(), -1), dxNew(x.size(), -2);
    std::uniform_int_distribution<int> small(0, 3);
    std::normal_distribution<float> normal;
    for (auto& v : x) v = ties ? (float)small(rng) : normal(rng); // small integers: many tied maxima
    if (nan) for (size_t i = 5; i < x.size(); i += 37) x[i] = std::nanf(""); // NaN wins its windows, as in PyTorch
    for (auto& v : dy) v = normal(rng);
    std::vector<int> idx(dy.size(), -7);
    emu_launch(grid(x.size()), STRIDED, [&] { max_pool_bwd(x.data(), dy.data(), dxOld.data(), planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw); });
    emu_launch(grid(dy.size()), STRIDED, [&] { max_pool_argmax(x.data(), idx.data(), planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw); });
    emu_launch(grid(x.size()), STRIDED, [&] { max_pool_bwd_idx(idx.data(), dy.data(), dxNew.data(), planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw); });
    bool same = std::memcmp(dxOld.data(), dxNew.data(), x.size() * sizeof(float)) == 0;
    double worst = 0;
    for (size_t i = 0; i < x.size(); i++) worst = std::max(worst, (double)std::fabs(dxOld[i] - dxNew[i]));
    char what[200];
    std::snprintf(what, sizeof what, "max pool backward, two passes = one pass: x[%d,%d,%d,%d] k%dx%d s%dx%d p%dx%d d%dx%d%s%s%s", n, c, h, w,
                  kh, kw, sh, sw, ph, pw, dh, dw, ceil ? ", ceil" : "", ties ? ", tied maxima" : "", nan ? ", NaN" : "");
    check(same, what, worst);
}

static void affineBackward(int n, int c, int hw, bool relu, bool wantDx, bool sums) {
    long long total = (long long)n * hw, size = total * c;
    std::normal_distribution<float> normal;
    std::vector<float> x(size), y(size), dy(size), scale(c);
    for (auto& v : x) v = normal(rng);
    for (auto& v : y) v = std::max(normal(rng), 0.f); // a ReLU output: about half exact zeros, whose dy must not pass
    for (auto& v : dy) v = normal(rng);
    for (auto& v : scale) v = normal(rng);
    // reference: the Backend default's composition of the GPU-validated kernels
    std::vector<float> g(size), dxRef(size), sgRef(c), sgxRef(c);
    if (relu) emu_launch(grid(size), STRIDED, [&] { relu_bwd(y.data(), dy.data(), g.data(), size); });
    else g = dy;
    emu_launch(c, 256, [&] { channel_dot(g.data(), x.data(), sgxRef.data(), n, c, hw, 0); });
    emu_launch(c, 256, [&] { channel_dot(g.data(), nullptr, sgRef.data(), n, c, hw, 0); });
    emu_launch(grid(size), STRIDED, [&] { channel_affine(g.data(), scale.data(), nullptr, dxRef.data(), c, hw, size); });
    // the fused kernel, with CudaBackend.channelAffineBackward's parts
    int parts = (int)std::max(1LL, std::min((long long)(1024 + c - 1) / c, (total + 2047) / 2048));
    long long chunk = (total + parts - 1) / parts;
    std::vector<float> dx(size, -3), sg(c, -4), sgx(c, -5);
    std::vector<double> partial(2 * (size_t)c * parts, -6);
    emu_launch(c * parts, 256, [&] {
        channel_affine_bwd(x.data(), relu ? y.data() : nullptr, dy.data(), scale.data(), wantDx ? dx.data() : nullptr,
                           sums ? partial.data() : nullptr, n, c, hw, parts, chunk, sums ? 1 : 0);
    });
    if (sums) emu_launch(grid(c), STRIDED, [&] { channel_affine_bwd_finish(partial.data(), sg.data(), sgx.data(), c, parts); });
    bool ok = true;
    double worst = 0;
    for (long long i = 0; i < size; i++) {
        float want = wantDx ? dxRef[i] : -3.f; // no dx asked: the buffer is untouched
        ok &= dx[i] == want;
        worst = std::max(worst, (double)std::fabs(dx[i] - want));
    }
    for (int i = 0; i < c; i++) {
        float wg = sums ? sgRef[i] : -4.f, wgx = sums ? sgxRef[i] : -5.f;
        double eg = std::fabs(sg[i] - wg), egx = std::fabs(sgx[i] - wgx);
        ok &= eg <= 1e-6 * std::fabs(wg) + 1e-6 && egx <= 1e-6 * std::fabs(wgx) + 1e-6;
        worst = std::max(worst, std::max(eg, egx));
    }
    char what[160];
    std::snprintf(what, sizeof what, "frozen BN backward, fused = composed: n%d c%d hw%d (%d parts)%s%s%s", n, c, hw, parts,
                  relu ? ", ReLU" : "", wantDx ? ", dx" : "", sums ? ", sums" : "");
    check(ok, what, worst);
}

// the float4 kernels against the scalar ones, bit for bit (NaN included), with tails of 0-3 and out aliasing an input
static void vectorElementwise(long long n) {
    std::normal_distribution<float> normal;
    std::vector<float> a(n), b(n);
    for (auto& v : a) v = normal(rng);
    for (auto& v : b) v = normal(rng);
    if (n > 2) { a[1] = std::nanf(""); a[2] = 0.f; b[0] = -0.f; }
    auto same = [](const std::vector<float>& u, const std::vector<float>& v) {
        return std::memcmp(u.data(), v.data(), u.size() * sizeof(float)) == 0;
    };
    unsigned g4 = grid((n + 3) / 4);
    std::vector<float> s1(n, 7), s2(n, 7);
    emu_launch(grid(n), STRIDED, [&] { relu_fwd(a.data(), s1.data(), n); });
    emu_launch(g4, STRIDED, [&] { relu_fwd_v4(a.data(), s2.data(), n); });
    bool ok = same(s1, s2);
    emu_launch(grid(n), STRIDED, [&] { relu_bwd(a.data(), b.data(), s1.data(), n); });
    emu_launch(g4, STRIDED, [&] { relu_bwd_v4(a.data(), b.data(), s2.data(), n); });
    ok &= same(s1, s2);
    emu_launch(grid(n), STRIDED, [&] { scale_f32(a.data(), -0.7f, s1.data(), n); });
    emu_launch(g4, STRIDED, [&] { scale_f32_v4(a.data(), -0.7f, s2.data(), n); });
    ok &= same(s1, s2);
    std::vector<float> o1 = a, o2 = a; // out aliasing a, as CudaWsss and the optimiser call it
    emu_launch(grid(n), STRIDED, [&] { add_scaled(o1.data(), 0.3f, b.data(), -2.f, o1.data(), n); });
    emu_launch(g4, STRIDED, [&] { add_scaled_v4(o2.data(), 0.3f, b.data(), -2.f, o2.data(), n); });
    ok &= same(o1, o2);
    char what[120];
    std::snprintf(what, sizeof what, "float4 relu / relu backward / scale / add (aliased) = scalar kernels: n %lld", n);
    check(ok, what, 0);
}

// the fused forms against the Backend defaults' two passes of GPU-validated kernels, bit for bit (NaN, -0 included)
static void fusedRelu(int n, int c, int hw, bool shift) {
    long long size = (long long)n * c * hw;
    std::normal_distribution<float> normal;
    std::vector<float> x(size), b(size), sc(c), sh(c);
    for (auto& v : x) v = normal(rng);
    for (auto& v : b) v = normal(rng);
    for (auto& v : sc) v = normal(rng);
    for (auto& v : sh) v = normal(rng);
    if (size > 3) { x[0] = std::nanf(""); x[1] = -0.f; b[1] = 0.f; x[2] = 1.f; b[2] = -1.f; }
    std::vector<float> r1(size, 9), r2(size, 8);
    const float* shp = shift ? sh.data() : nullptr;
    emu_launch(grid(size), STRIDED, [&] { channel_affine(x.data(), sc.data(), shp, r1.data(), c, hw, size); });
    emu_launch(grid(size), STRIDED, [&] { relu_fwd(r1.data(), r1.data(), size); });
    emu_launch(grid(size), STRIDED, [&] { channel_affine_relu(x.data(), sc.data(), shp, r2.data(), c, hw, size); });
    bool ok = std::memcmp(r1.data(), r2.data(), size * sizeof(float)) == 0;
    emu_launch(grid(size), STRIDED, [&] { add_scaled(x.data(), 1.f, b.data(), 1.f, r1.data(), size); });
    emu_launch(grid(size), STRIDED, [&] { relu_fwd(r1.data(), r1.data(), size); });
    emu_launch(grid(size), STRIDED, [&] { add_relu(x.data(), b.data(), r2.data(), size); });
    ok &= std::memcmp(r1.data(), r2.data(), size * sizeof(float)) == 0;
    char what[120];
    std::snprintf(what, sizeof what, "fused frozen-BN + ReLU and add + ReLU = two passes: n%d c%d hw%d%s", n, c, hw, shift ? "" : ", no shift");
    check(ok, what, 0);
}

int main() {
    fusedRelu(2, 3, 25, true);
    fusedRelu(1, 5, 7, false);
    for (long long n : {0LL, 1LL, 3LL, 4LL, 7LL, 1000LL, 1003LL}) vectorElementwise(n);
    maxPool(2, 3, 13, 13, 3, 3, 2, 2, 1, 1, 1, 1, false, false, false); // ResNet's stem pool
    maxPool(2, 3, 13, 13, 3, 3, 2, 2, 1, 1, 1, 1, false, true, false);
    maxPool(1, 4, 12, 10, 2, 2, 2, 2, 0, 0, 1, 1, false, true, false);
    maxPool(1, 2, 17, 15, 3, 3, 1, 1, 2, 2, 2, 2, false, true, false); // dilated
    maxPool(1, 2, 9, 9, 3, 3, 3, 3, 1, 1, 1, 1, false, false, false);
    maxPool(1, 3, 11, 14, 3, 2, 2, 1, 1, 0, 1, 2, false, true, false); // every parameter differs between height and width
    maxPool(2, 2, 10, 13, 3, 3, 2, 2, 1, 1, 1, 1, true, false, true);  // ceil mode, NaN
    maxPool(1, 2, 12, 9, 2, 3, 3, 2, 1, 1, 1, 1, true, true, false);
    affineBackward(2, 3, 40 * 40, true, true, true); // 3200 values a channel: 2 parts
    affineBackward(2, 3, 40 * 40, false, true, true);
    affineBackward(3, 5, 7 * 9, true, true, true);   // one part, a chunk shorter than the block
    affineBackward(2, 3, 40 * 40, true, false, true);
    affineBackward(2, 3, 40 * 40, true, true, false);
    affineBackward(1, 1, 64 * 64 + 3, true, true, true); // one channel: a part boundary inside the map
    std::printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
