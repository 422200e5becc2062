// The SAE forward pass. Legend: B rows (tokens), D = d_in, F = d_sae.

#include "core/sae/sae.h"

#include "core/kernels/sgemm.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <immintrin.h>
#include <omp.h>

#include "core/sae/topk.h"

namespace mono::sae {

const char* architectureName(Architecture a) {
    switch (a) {
        case Architecture::kStandard:
            return "standard";
        case Architecture::kTopK:
            return "topk";
        case Architecture::kBatchTopK:
            return "batchtopk";
        case Architecture::kJumpReLU:
            return "jumprelu";
    }
    return "standard";
}

bool parseArchitecture(const std::string& name, Architecture* out) {
    for (Architecture a : {Architecture::kStandard, Architecture::kTopK, Architecture::kBatchTopK,
                           Architecture::kJumpReLU}) {
        if (name == architectureName(a)) {
            *out = a;
            return true;
        }
    }
    if (name == "relu") {
        *out = Architecture::kStandard;
        return true;
    }
    return false;
}

namespace {
// Built by appending: GCC 12 warns (falsely) about `"[" + std::to_string(n)`.
std::string shapeString(int64_t rows, int64_t cols) {
    std::string s("[");
    s.append(std::to_string(rows)).append(", ").append(std::to_string(cols)).append("]");
    return s;
}
std::string shapeOf(const Matrix& m) {
    return shapeString(m.rows(), m.cols());
}
}  // namespace

Result<Sae> Sae::create(SaeConfig config, Matrix wEnc, Matrix wDec, Vector bEnc, Vector bDec,
                        Vector threshold) {
    const int64_t D = config.dIn, F = config.dSae;
    if (D <= 0 || F <= 0)
        return Status::invalidArgument("SAE config: d_in and d_sae must be positive, got d_in=" +
                                       std::to_string(D) + ", d_sae=" + std::to_string(F));
    const std::string expectEnc = shapeString(D, F);
    const std::string expectDec = shapeString(F, D);
    if (wEnc.rows() != D || wEnc.cols() != F)
        return Status::invalidArgument("W_enc: expected shape " + expectEnc + ", found " +
                                       shapeOf(wEnc));
    if (wDec.rows() != F || wDec.cols() != D)
        return Status::invalidArgument("W_dec: expected shape " + expectDec + ", found " +
                                       shapeOf(wDec));
    if (bEnc.size() != F)
        return Status::invalidArgument("b_enc: expected " + std::to_string(F) + " values, found " +
                                       std::to_string(bEnc.size()));
    if (bDec.size() != D)
        return Status::invalidArgument("b_dec: expected " + std::to_string(D) + " values, found " +
                                       std::to_string(bDec.size()));
    const bool needsThreshold = config.architecture == Architecture::kJumpReLU ||
                                config.architecture == Architecture::kBatchTopK;
    if (needsThreshold && threshold.size() != F)
        return Status::invalidArgument("threshold: expected " + std::to_string(F) +
                                       " values for a " + architectureName(config.architecture) +
                                       " SAE, found " + std::to_string(threshold.size()));
    if (config.architecture == Architecture::kTopK && (config.k < 1 || config.k > F))
        return Status::invalidArgument("topk SAE: k must be in 1.." + std::to_string(F) +
                                       ", found " + std::to_string(config.k));
    if (config.architecture == Architecture::kBatchTopK)
        config.architecture = Architecture::kJumpReLU;
    if (!needsThreshold) threshold.resize(0);
    struct Named {
        const char* name;
        const float* data;
        int64_t size;
    };
    for (const Named& n :
         {Named{"W_enc", wEnc.data(), wEnc.size()}, Named{"W_dec", wDec.data(), wDec.size()},
          Named{"b_enc", bEnc.data(), bEnc.size()}, Named{"b_dec", bDec.data(), bDec.size()},
          Named{"threshold", threshold.data(), threshold.size()}}) {
        for (int64_t i = 0; i < n.size; ++i)
            if (!std::isfinite(n.data[i]))
                return Status::invalidArgument(std::string(n.name) + ": element " +
                                               std::to_string(i) + " is not finite");
    }
    Sae sae;
    sae.m_config = std::move(config);
    sae.m_wEnc = std::move(wEnc);
    sae.m_wDec = std::move(wDec);
    sae.m_bEnc = std::move(bEnc);
    sae.m_bDec = std::move(bDec);
    sae.m_threshold = std::move(threshold);
    sae.prepare();
    return sae;
}

void Sae::prepare() {
    // Folding −b_dec W_enc into the bias saves a [B, D] subtraction per batch.
    m_encBias = m_bEnc;  // [F]
    if (m_config.applyBDecToInput) m_encBias.noalias() -= m_bDec * m_wEnc;
}

namespace {

// Appends j and row[j] + bias[j] (row[j] when bias is null) for every j < n
// where that sum is > 0, ascending; returns how many. idx and val need room
// for n + 1 entries. Masks of 64 lanes are built first (independent vector
// compares); then the first two set bits of each mask are written without a
// branch (slots past the count are scratch) and only masks with more take a
// loop. A row of a sparse code has a few dozen positive lanes among thousands,
// in no pattern a branch predictor could learn: a loop per set bit cost a
// misprediction per mask.
int64_t appendPositive(const float* row, const float* bias, int64_t n, int32_t* idx, float* val) {
    int64_t count = 0;
    const auto valueAt = [&](int64_t i) { return bias ? row[i] + bias[i] : row[i]; };
    for (int64_t i0 = 0; i0 < n; i0 += 64) {
        const int w = static_cast<int>(n - i0 < 64 ? n - i0 : 64);
        uint64_t m = 0;
        int j = 0;
#if defined(__AVX512F__)
        const __m512 zero = _mm512_setzero_ps();
        for (; j + 16 <= w; j += 16) {
            __m512 v = _mm512_loadu_ps(row + i0 + j);
            if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + i0 + j));
            m |= static_cast<uint64_t>(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ)) << j;
        }
#endif
        for (; j < w; ++j) m |= static_cast<uint64_t>(valueAt(i0 + j) > 0.0f) << j;
        const int set = __builtin_popcountll(m);
        for (int t = 0; t < 2; ++t) {
            // ctz of an empty mask is undefined: bit 63 stands in (a real lane,
            // but then the slot is scratch, past the count).
            const int64_t i = std::min(i0 + __builtin_ctzll(m | (uint64_t(1) << 63)), n - 1);
            idx[count + t] = static_cast<int32_t>(i);
            val[count + t] = valueAt(i);
            m &= m - 1;
        }
        for (int t = 2; m != 0; ++t, m &= m - 1) {
            const int64_t i = i0 + __builtin_ctzll(m);
            idx[count + t] = static_cast<int32_t>(i);
            val[count + t] = valueAt(i);
        }
        count += set;
    }
    return count;
}

// Rows per encoder block: a block's codes ([128, d_sae], 0.5 MB at d_sae 1024)
// stay in L2 while the bias, the activation and a visitor read them, and
// Eigen's one-thread GEMM reaches its full rate from about 128 rows.
constexpr int64_t kEncodeRows = 128;

// fn(firstRow, rows, thread) for every block of kEncodeRows rows, dealt out
// statically in row order over the OpenMP threads. Each block's Eigen product
// runs on its own thread with one-thread blocking, so the floats of a row do
// not depend on the thread count or on which block holds it.
template <class Fn>
void forEachRowBlock(int64_t rows, const Fn& fn) {
    if (rows <= 0) return;
    const int64_t blocks = (rows + kEncodeRows - 1) / kEncodeRows;
    const int saved = omp_get_max_threads();
    const int threads = static_cast<int>(std::min<int64_t>(blocks, saved));
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t b = 0; b < blocks; ++b) {
        omp_set_num_threads(1);  // Eigen must not fork inside a block
        const int64_t r0 = b * kEncodeRows;
        fn(r0, std::min(kEncodeRows, rows - r0), omp_get_thread_num());
    }
    omp_set_num_threads(saved);
}

}  // namespace

void Sae::activateRows(float* h, int64_t rows) const {
    const int64_t F = dSae();
    switch (m_config.architecture) {
        case Architecture::kStandard:
            for (int64_t j = 0; j < rows * F; ++j) h[j] = std::max(h[j], 0.0f);
            break;
        case Architecture::kTopK:
            keepTopKRows(h, rows, F, m_config.k);
            break;
        case Architecture::kBatchTopK:
        case Architecture::kJumpReLU: {
            const float* theta = m_threshold.data();
            for (int64_t r = 0; r < rows; ++r) {
                float* row = h + r * F;
                for (int64_t i = 0; i < F; ++i)
                    row[i] = (row[i] > theta[i] && row[i] > 0.0f) ? row[i] : 0.0f;
            }
            break;
        }
    }
}

void Sae::activate(Matrix& h) const {
    const int64_t F = h.cols();
    forEachRowBlock(h.rows(),
                    [&](int64_t r0, int64_t n, int) { activateRows(h.data() + r0 * F, n); });
}

void Sae::encodeRows(const float* x, int64_t ldx, int64_t rows, float* out, Stage stage) const {
    Eigen::Map<const Matrix, 0, Eigen::OuterStride<>> xb(x, rows, dIn(), Eigen::OuterStride<>(ldx));
    Eigen::Map<Matrix> h(out, rows, dSae());
    kernels::gemm(xb, kernels::Op::kN, m_wEnc, kernels::Op::kN, h);
    if (stage == Stage::kProduct) return;
    h.rowwise() += m_encBias;
    if (stage == Stage::kCodes) activateRows(out, rows);
}

Status Sae::checkInput(int64_t width) const {
    if (width != dIn())
        return Status::invalidArgument("SAE input: expected rows of width d_in=" +
                                       std::to_string(dIn()) + ", found " + std::to_string(width));
    return Status::success();
}

Result<Matrix> Sae::preActivations(const Matrix& x) const {
    MONO_RETURN_IF_ERROR(checkInput(x.cols()));
    Matrix h(x.rows(), dSae());  // [B, F]
    forEachRowBlock(x.rows(), [&](int64_t r0, int64_t n, int) {
        encodeRows(x.data() + r0 * dIn(), dIn(), n, h.data() + r0 * dSae(), Stage::kPreActivation);
    });
    return h;
}

Result<Matrix> Sae::encode(const Matrix& x) const {
    MONO_RETURN_IF_ERROR(checkInput(x.cols()));
    Matrix f(x.rows(), dSae());  // [B, F]
    forEachRowBlock(x.rows(), [&](int64_t r0, int64_t n, int) {
        encodeRows(x.data() + r0 * dIn(), dIn(), n, f.data() + r0 * dSae(), Stage::kCodes);
    });
    return f;
}

Status Sae::encodeInBlocks(Eigen::Ref<const Matrix> x, const BlockVisitor& visit) const {
    MONO_RETURN_IF_ERROR(checkInput(x.cols()));
    const int64_t F = dSae();
    // A ReLU SAE's bias add and ReLU are folded into the scan for nonzeros:
    // one pass over the block instead of three, and the same floats (h + b is
    // the same float add, and ReLU keeps exactly the positive sums).
    const bool fused = m_config.architecture == Architecture::kStandard;
    forEachRowBlock(x.rows(), [&](int64_t r0, int64_t n, int thread) {
        thread_local std::vector<float> h, values;
        thread_local std::vector<int32_t> indices, rowStart;
        h.resize(static_cast<size_t>(n * F));
        values.resize(static_cast<size_t>(n * F + 1));  // appendPositive's scratch slot
        indices.resize(static_cast<size_t>(n * F + 1));
        rowStart.resize(static_cast<size_t>(n + 1));
        encodeRows(x.data() + r0 * x.outerStride(), x.outerStride(), n, h.data(),
                   fused ? Stage::kProduct : Stage::kCodes);
        const float* bias = fused ? m_encBias.data() : nullptr;
        int64_t nnz = 0;
        for (int64_t r = 0; r < n; ++r) {
            rowStart[static_cast<size_t>(r)] = static_cast<int32_t>(nnz);
            nnz += appendPositive(h.data() + r * F, bias, F, indices.data() + nnz,
                                  values.data() + nnz);
        }
        rowStart[static_cast<size_t>(n)] = static_cast<int32_t>(nnz);
        visit(SparseBlock{r0, n, rowStart.data(), indices.data(), values.data()}, thread);
    });
    return Status::success();
}

Result<Matrix> Sae::decode(const Matrix& f) const {
    if (f.cols() != dSae())
        return Status::invalidArgument(
            "SAE codes: expected rows of width d_sae=" + std::to_string(dSae()) + ", found " +
            std::to_string(f.cols()));
    Matrix xHat(f.rows(), dIn());  // [B, D]
    kernels::gemm(f, kernels::Op::kN, m_wDec, kernels::Op::kN, xHat);
    xHat.rowwise() += m_bDec;
    return xHat;
}

Result<SparseCodes> Sae::encodeSparse(const Matrix& x) const {
    // Each block keeps its own nonzeros; the blocks are joined in row order.
    struct Part {
        std::vector<int32_t> rowStart, indices;
        std::vector<float> values;
    };
    std::vector<Part> parts(static_cast<size_t>((x.rows() + kEncodeRows - 1) / kEncodeRows));
    MONO_RETURN_IF_ERROR(encodeInBlocks(x, [&](const SparseBlock& b, int) {
        Part& part = parts[static_cast<size_t>(b.firstRow / kEncodeRows)];
        const int32_t nnz = b.rowStart[b.rows];
        part.rowStart.assign(b.rowStart, b.rowStart + b.rows + 1);
        part.indices.assign(b.indices, b.indices + nnz);
        part.values.assign(b.values, b.values + nnz);
    }));
    SparseCodes codes;
    codes.rows = x.rows();
    codes.dSae = dSae();
    codes.rowStart.reserve(static_cast<size_t>(codes.rows + 1));
    codes.rowStart.push_back(0);
    for (const Part& part : parts) {
        const int64_t base = static_cast<int64_t>(codes.indices.size());
        for (size_t r = 1; r < part.rowStart.size(); ++r)
            codes.rowStart.push_back(base + part.rowStart[r]);
        codes.indices.insert(codes.indices.end(), part.indices.begin(), part.indices.end());
        codes.values.insert(codes.values.end(), part.values.begin(), part.values.end());
    }
    return codes;
}

Result<Matrix> Sae::decodeSparse(const SparseCodes& codes) const {
    if (codes.dSae != dSae() || static_cast<int64_t>(codes.rowStart.size()) != codes.rows + 1)
        return Status::invalidArgument("sparse SAE codes: expected d_sae=" +
                                       std::to_string(dSae()) + " and rows+1 row starts");
    Matrix xHat(codes.rows, dIn());  // [B, D]
    const int64_t D = dIn();
    for (int64_t r = 0; r < codes.rows; ++r) {
        auto out = xHat.row(r);
        out = m_bDec;
        for (int64_t j = codes.rowStart[r]; j < codes.rowStart[r + 1]; ++j) {
            const int32_t i = codes.indices[j];
            if (i < 0 || i >= dSae())
                return Status::outOfRange("sparse SAE codes: feature index " + std::to_string(i) +
                                          " outside 0.." + std::to_string(dSae() - 1));
            out.noalias() += codes.values[j] * m_wDec.row(i);
        }
        (void)D;
    }
    return xHat;
}

Status Sae::reconstructInPlace(float* x, int64_t rows, int64_t width) const {
    if (width != dIn())
        return Status::invalidArgument("SAE splice: activation width " + std::to_string(width) +
                                       " does not match d_in=" + std::to_string(dIn()));
    if (rows < 0 || (rows > 0 && x == nullptr))
        return Status::invalidArgument("SAE splice: no activations given");
    constexpr int64_t kBlock = 2048;
    Matrix h;  // [block, F]
    for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
        const int64_t n = std::min(kBlock, rows - r0);
        Eigen::Map<Matrix> block(x + r0 * width, n, width);  // [n, D]
        h.resize(n, dSae());
        kernels::gemm(block, kernels::Op::kN, m_wEnc, kernels::Op::kN, h);
        h.rowwise() += m_encBias;
        activate(h);
        kernels::gemm(h, kernels::Op::kN, m_wDec, kernels::Op::kN, block);
        block.rowwise() += m_bDec;
    }
    return Status::success();
}

}  // namespace mono::sae
