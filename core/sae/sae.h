#pragma once
// A sparse autoencoder over activation rows, in the SAELens conventions:
//   x  one activation row [d_in];  W_enc [d_in, d_sae];  W_dec [d_sae, d_in]
//   x' = x − b_dec when applyBDecToInput, else x
//   h  = x' W_enc + b_enc                         pre-activations [d_sae]
//   f  = act(h): standard ReLU(h); topk keeps the k largest of ReLU(h);
//        jumprelu ReLU(h)·[h > threshold]
//   x̂  = f W_dec + b_dec
// Matrices are row-major with one token per row. Encoding and decoding use Eigen
// GEMMs, multi-threaded through OpenMP. A Sae is a value: copyable, immutable in
// use, and safe to read from several threads at once.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/base/matrix.h"
#include "core/base/result.h"

namespace mono::sae {

enum class Architecture {
    kStandard,   // ReLU; trained with the decoder-norm-weighted L1 penalty
    kTopK,       // k largest of ReLU(h) per row
    kBatchTopK,  // training only; saved and loaded as kJumpReLU with one global threshold
    kJumpReLU,   // per-feature threshold
};

// "standard", "topk", "batchtopk", "jumprelu"; parse returns false on anything else.
const char* architectureName(Architecture a);
bool parseArchitecture(const std::string& name, Architecture* out);

// Where the SAE came from and how it was trained; written into cfg.json's metadata.
struct SaeMetadata {
    std::string modelName;
    std::string hookName;    // "blocks.6.hook_resid_post"
    int64_t hookLayer = -1;  // -1 when unknown
    int64_t contextSize = 0;
    bool prependBos = true;
    std::string datasetPath;
    int64_t trainingTokens = 0;
    std::string trainingConfigJson;  // the trainer's settings as a JSON object, or empty
};

struct SaeConfig {
    int64_t dIn = 0;
    int64_t dSae = 0;
    Architecture architecture = Architecture::kStandard;
    int64_t k = 0;  // topk (and batchtopk while training)
    bool applyBDecToInput = true;
    std::string normalizeActivations = "none";
    std::string dtype = "float32";  // the dtype the weights were stored in
    SaeMetadata metadata;
};

// Per-row sparse codes in CSR form: row r's features are
// indices[rowStart[r] .. rowStart[r+1]) with the matching values, ascending by index.
struct SparseCodes {
    int64_t rows = 0;
    int64_t dSae = 0;
    std::vector<int64_t> rowStart;  // [rows + 1]
    std::vector<int32_t> indices;   // [nnz]
    std::vector<float> values;      // [nnz]
};

class Sae {
public:
    Sae() = default;

    // Checks the shapes against `config` (W_enc [d_in, d_sae], W_dec [d_sae, d_in],
    // b_enc and b_dec vectors, threshold [d_sae] for jumprelu, k in 1..d_sae for
    // topk) and that every weight is finite. kBatchTopK becomes kJumpReLU only via
    // the trainer; here it needs a threshold like kJumpReLU.
    static Result<Sae> create(SaeConfig config, Matrix wEnc, Matrix wDec, Vector bEnc, Vector bDec,
                              Vector threshold = {});

    const SaeConfig& config() const { return m_config; }
    int64_t dIn() const { return m_config.dIn; }
    int64_t dSae() const { return m_config.dSae; }

    const Matrix& wEnc() const { return m_wEnc; }            // [d_in, d_sae]
    const Matrix& wDec() const { return m_wDec; }            // [d_sae, d_in]
    const Vector& bEnc() const { return m_bEnc; }            // [d_sae]
    const Vector& bDec() const { return m_bDec; }            // [d_in]
    const Vector& threshold() const { return m_threshold; }  // [d_sae] or empty

    // Dense feature activations f [rows, d_sae] of x [rows, d_in].
    // InvalidArgument when x has the wrong width.
    Result<Matrix> encode(const Matrix& x) const;
    // Pre-activations h [rows, d_sae].
    Result<Matrix> preActivations(const Matrix& x) const;
    // x̂ [rows, d_in] from f [rows, d_sae].
    Result<Matrix> decode(const Matrix& f) const;
    // Sparse codes of x, equal to the nonzeros of encode(x).
    Result<SparseCodes> encodeSparse(const Matrix& x) const;
    // The nonzero codes of a block of rows, in CSR form local to the block:
    // row firstRow + r has indices[rowStart[r] .. rowStart[r + 1]) (ascending)
    // and the matching values.
    struct SparseBlock {
        int64_t firstRow = 0, rows = 0;
        const int32_t* rowStart = nullptr;  // [rows + 1]
        const int32_t* indices = nullptr;
        const float* values = nullptr;
    };
    // Encodes x in blocks of rows on the OpenMP threads and hands each block's
    // nonzero codes to `visit` (block, thread) without ever storing the dense
    // codes. Blocks are dealt out statically in row order, so a thread's blocks
    // ascend and all of thread t's rows precede thread t + 1's. The values equal
    // encode(x)'s bit for bit. InvalidArgument when x has the wrong width.
    using BlockVisitor = std::function<void(const SparseBlock&, int)>;
    Status encodeInBlocks(Eigen::Ref<const Matrix> x, const BlockVisitor& visit) const;
    // x̂ from sparse codes.
    Result<Matrix> decodeSparse(const SparseCodes& codes) const;
    // Replaces each of the `rows` rows of `x` (row-major, width d_in) by its
    // reconstruction x̂, the splice the model's hooks use. Processes in blocks.
    Status reconstructInPlace(float* x, int64_t rows, int64_t width) const;

private:
    void prepare();                  // derived terms after weights change
    void activate(Matrix& h) const;  // h → f in place
    void activateRows(float* h, int64_t rows) const;
    // x W_enc (+ bias, + activation) of `rows` rows of x (row stride ldx) into out
    // (row stride d_sae), on this thread.
    enum class Stage { kProduct, kPreActivation, kCodes };
    void encodeRows(const float* x, int64_t ldx, int64_t rows, float* out, Stage stage) const;
    Status checkInput(int64_t width) const;
    SaeConfig m_config;
    Matrix m_wEnc;
    Matrix m_wDec;
    Vector m_bEnc;
    Vector m_bDec;
    Vector m_threshold;
    Vector m_encBias;  // b_enc − b_dec W_enc (or b_enc): the bias of x W_enc [d_sae]
};

}  // namespace mono::sae
