#pragma once
// Internal to core/model: reading named tensors of a checkpoint into the
// float32 matrices of ModelWeights — or, for a bf16-resident load, the linear
// and embedding weights straight into packed bf16, one tensor at a time
// (never the model in float32) — with errors that name the file, the tensor,
// the expected and the found shape; and the per-family Hugging Face loaders.
// Each tensor's pages of the memory-mapped file are released once read, so
// the file does not stay counted in the resident memory.

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/io/mapped_file.h"
#include "core/io/tensor.h"
#include "core/kernels/bf16_pack.h"
#include "core/model/config.h"
#include "core/model/model.h"
#include "core/model/weights.h"

namespace mono::model {

inline std::string shapeString(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// A weight that is NaN or infinite poisons every activation after it (generation
// prints NUL bytes, metrics print NaN), so it is refused at load, by name.
inline Status checkFinite(const std::string& source, const std::string& name,
                          const std::vector<float>& values) {
    for (size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
            return Status::corruption(source + ": tensor '" + name + "' holds " +
                                      (std::isnan(values[i]) ? "NaN" : "an infinite value") +
                                      " at element " + std::to_string(i) +
                                      "; the weights are damaged");
    return Status::success();
}

// Looks tensors up by name across the files of one model.
using FindFn = std::function<const io::TensorView*(const std::string&)>;

class WeightReader {
public:
    WeightReader(FindFn find, std::string source, WeightStorage storage = WeightStorage::kF32)
        : m_find(std::move(find)), m_source(std::move(source)), m_storage(storage) {}
    WeightStorage storage() const { return m_storage; }
    // Names the file that holds `name` in errors (sharded checkpoints); without
    // it errors name `source`.
    void setLocate(std::function<std::string(const std::string&)> locate) {
        m_locate = std::move(locate);
    }

    // Reads `name` as a [rows, cols] matrix (or a vector when cols == 0); with
    // `transpose` the file holds [cols, rows] (Conv1D) and it is transposed.
    Status matrix(const std::string& name, int64_t rows, int64_t cols, bool transpose,
                  RowMatrix* out) const {
        const io::TensorView* t = m_find(name);
        if (!t) return Status::notFound(where(name) + ": missing tensor '" + name + "'");
        std::vector<int64_t> want =
            transpose ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{rows, cols};
        if (t->shape != want)
            return Status::invalidArgument(where(name) + ": tensor '" + name +
                                           "': expected shape " + shapeString(want) + ", found " +
                                           shapeString(t->shape));
        auto f = io::toFloat(*t);
        if (!f.ok()) return f.status().withContext(where(name));
        io::releaseMappedPages(t->data, t->nbytes);
        MONO_RETURN_IF_ERROR(checkFinite(where(name), name, *f));
        if (transpose) {
            *out = Eigen::Map<const RowMatrix>(f->data(), cols, rows).transpose();
        } else {
            out->resize(rows, cols);
            std::memcpy(out->data(), f->data(), sizeof(float) * rows * cols);
        }
        return Status::success();
    }

    Status vector(const std::string& name, int64_t n, Vector* out) const {
        const io::TensorView* t = m_find(name);
        if (!t) return Status::notFound(where(name) + ": missing tensor '" + name + "'");
        if (t->shape != std::vector<int64_t>{n})
            return Status::invalidArgument(where(name) + ": tensor '" + name +
                                           "': expected shape " + shapeString({n}) + ", found " +
                                           shapeString(t->shape));
        auto f = io::toFloat(*t);
        if (!f.ok()) return f.status().withContext(where(name));
        MONO_RETURN_IF_ERROR(checkFinite(where(name), name, *f));
        *out = Eigen::Map<const Vector>(f->data(), n);
        return Status::success();
    }

    // Stacks several [rows_i, cols] tensors along rows into one fused linear.
    Status stacked(const std::vector<std::pair<std::string, int64_t>>& parts, int64_t cols,
                   RowMatrix* out) const {
        int64_t total = 0;
        for (const auto& p : parts) total += p.second;
        out->resize(total, cols);
        int64_t row = 0;
        for (const auto& [name, rows] : parts) {
            RowMatrix m;
            MONO_RETURN_IF_ERROR(matrix(name, rows, cols, false, &m));
            out->middleRows(row, rows) = m;
            row += rows;
        }
        return Status::success();
    }

    bool has(const std::string& name) const { return m_find(name) != nullptr; }

    // A linear module's weight [rows, cols] (`transpose`: the file holds
    // [cols, rows]) into out->w, or out->wBf16 when bf16-resident.
    Status linear(const std::string& name, int64_t rows, int64_t cols, bool transpose,
                  Linear* out) const;
    // Several [rows_i, cols] tensors stacked along rows into one fused linear.
    Status linearStacked(const std::vector<std::pair<std::string, int64_t>>& parts, int64_t cols,
                         Linear* out) const;
    // An embedding or unembedding [rows, cols] into `f32`, or `bf16` when bf16-resident.
    Status embedding(const std::string& name, int64_t rows, int64_t cols, RowMatrix* f32,
                     kernels::PackedBf16* bf16) const;
    // Rows [src, src + rows) of tensor `name` (a [tensorRows, cols] matrix, or
    // [cols, tensorRows] with `transpose`) into rows [dest, dest + rows) of `p`,
    // which the caller sized; bf16 values are copied, others rounded.
    struct RowBlock {
        int64_t src, dest, rows;
    };
    Status packRows(const std::string& name, int64_t tensorRows, int64_t cols, bool transpose,
                    const std::vector<RowBlock>& blocks, kernels::PackedBf16* p) const;

    // Reads a [n] vector stored as 1 + w (Gemma's RMSNorm weights), in float.
    Status onePlusVector(const std::string& name, int64_t n, Vector* out) const {
        MONO_RETURN_IF_ERROR(vector(name, n, out));
        out->array() += 1.0f;
        return Status::success();
    }

    // Concatenates several vectors (fused biases).
    Status stackedVector(const std::vector<std::pair<std::string, int64_t>>& parts,
                         Vector* out) const {
        int64_t total = 0;
        for (const auto& p : parts) total += p.second;
        out->resize(total);
        int64_t at = 0;
        for (const auto& [name, n] : parts) {
            Vector v;
            MONO_RETURN_IF_ERROR(vector(name, n, &v));
            out->segment(at, n) = v;
            at += n;
        }
        return Status::success();
    }

    const std::string& source() const { return m_source; }

private:
    std::string where(const std::string& name) const {
        if (m_locate) {
            std::string file = m_locate(name);
            if (!file.empty()) return file;
        }
        return m_source;
    }

    FindFn m_find;
    std::string m_source;
    WeightStorage m_storage = WeightStorage::kF32;
    std::function<std::string(const std::string&)> m_locate;
};

// Hugging Face checkpoints of the families in load_families.cpp.
Status loadLlamaLikeHf(const ModelConfig& c, const WeightReader& r, ModelWeights* w);
Status loadGptNeoxHf(const ModelConfig& c, const WeightReader& r, ModelWeights* w);
// GGUF checkpoints of gemma2 and qwen2 under llama.cpp's tensor names.
Status loadGgufFamily(const ModelConfig& c, const WeightReader& r, ModelWeights* w);

}  // namespace mono::model
