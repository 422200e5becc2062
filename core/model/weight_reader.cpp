// WeightReader's bf16-resident reads: checkpoint tensors packed straight into
// the bf16 layout of core/kernels/bf16_gemm.h (bf16 copied, float32 rounded,
// other types converted one tensor at a time).

#include "core/model/weight_reader.h"

namespace mono::model {

Status WeightReader::linear(const std::string& name, int64_t rows, int64_t cols, bool transpose,
                            Linear* out) const {
    if (m_storage == WeightStorage::kF32) return matrix(name, rows, cols, transpose, &out->w);
    kernels::allocateBf16(out->wBf16, rows, cols);
    return packRows(name, rows, cols, transpose, {{0, 0, rows}}, &out->wBf16);
}

Status WeightReader::linearStacked(const std::vector<std::pair<std::string, int64_t>>& parts,
                                   int64_t cols, Linear* out) const {
    if (m_storage == WeightStorage::kF32) return stacked(parts, cols, &out->w);
    int64_t total = 0;
    for (const auto& p : parts) total += p.second;
    kernels::allocateBf16(out->wBf16, total, cols);
    int64_t row = 0;
    for (const auto& [name, rows] : parts) {
        MONO_RETURN_IF_ERROR(packRows(name, rows, cols, false, {{0, row, rows}}, &out->wBf16));
        row += rows;
    }
    return Status::success();
}

Status WeightReader::embedding(const std::string& name, int64_t rows, int64_t cols, RowMatrix* f32,
                               kernels::PackedBf16* bf16) const {
    if (m_storage == WeightStorage::kF32) return matrix(name, rows, cols, false, f32);
    kernels::allocateBf16(*bf16, rows, cols);
    return packRows(name, rows, cols, false, {{0, 0, rows}}, bf16);
}

Status WeightReader::packRows(const std::string& name, int64_t tensorRows, int64_t cols,
                              bool transpose, const std::vector<RowBlock>& blocks,
                              kernels::PackedBf16* p) const {
    const io::TensorView* t = m_find(name);
    if (!t) return Status::notFound(where(name) + ": missing tensor '" + name + "'");
    const std::vector<int64_t> want =
        transpose ? std::vector<int64_t>{cols, tensorRows} : std::vector<int64_t>{tensorRows, cols};
    if (t->shape != want)
        return Status::invalidArgument(where(name) + ": tensor '" + name + "': expected shape " +
                                       shapeString(want) + ", found " + shapeString(t->shape));
    // bf16 and float32 are read in place; other types (f16, Q8_0) through one
    // float32 copy of this tensor.
    std::vector<float> converted;
    const void* base = t->data;
    const bool isBf16 = t->dtype == io::DType::kBF16;
    if (!isBf16 && t->dtype != io::DType::kF32) {
        auto f = io::toFloat(*t);
        if (!f.ok()) return f.status().withContext(where(name));
        converted = std::move(*f);
        base = converted.data();
    } else {
        uint64_t bytes = 0;
        if (!io::dtypeByteSize(t->dtype, t->numel(), &bytes) || bytes != t->nbytes)
            return Status::invalidArgument(where(name) + ": tensor '" + name + "' holds " +
                                           std::to_string(t->nbytes) + " bytes, not " +
                                           std::to_string(bytes) + " for " + io::describe(*t));
    }
    const size_t elemSize = isBf16 ? 2 : 4;
    // Element (r, i) of the [tensorRows, cols] matrix in the file.
    const int64_t rowStride = transpose ? 1 : cols, colStride = transpose ? tensorRows : 1;
    for (const RowBlock& b : blocks) {
        kernels::Bf16Source src;
        src.data = static_cast<const uint8_t*>(base) + size_t(b.src * rowStride) * elemSize;
        src.isBf16 = isBf16;
        src.rowStride = rowStride;
        src.colStride = colStride;
        const int64_t bad = kernels::packBf16Rows(*p, b.dest, b.rows, src);
        if (bad >= 0) {
            const int64_t r = b.src + bad / cols, i = bad % cols;
            const int64_t element = r * rowStride + i * colStride;
            return Status::corruption(where(name) + ": tensor '" + name +
                                      "' holds NaN or an infinite value at element " +
                                      std::to_string(element) + "; the weights are damaged");
        }
    }
    io::releaseMappedPages(t->data, t->nbytes);
    return Status::success();
}

}  // namespace mono::model
