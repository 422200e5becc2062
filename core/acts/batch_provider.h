#pragma once
// Where the trainer gets its activations: batches of rows of width dim(),
// an endless stream (epochs wrap). A provider can save and restore its position
// so that a resumed training run sees exactly the batches it would have seen.

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/base/matrix.h"
#include "core/base/result.h"

namespace mono::acts {

class BatchProvider {
public:
    virtual ~BatchProvider() = default;
    virtual int64_t dim() const = 0;
    // Fills `out` [rows, dim()] (resized by the caller) with the next rows.
    virtual Status next(Matrix& out) = 0;
    // An opaque description of the position in the stream, and its inverse.
    virtual std::string saveState() const = 0;
    virtual Status restoreState(const std::string& state) = 0;
};

// Rows of an in-memory matrix, reshuffled each epoch by a permutation derived
// from (seed, epoch) alone, so the state is just (epoch, position).
class MatrixBatchProvider : public BatchProvider {
public:
    MatrixBatchProvider(Matrix data, uint64_t seed);

    int64_t dim() const override { return m_data.cols(); }
    int64_t rows() const { return m_data.rows(); }
    const Matrix& data() const { return m_data; }
    Status next(Matrix& out) override;
    std::string saveState() const override;
    Status restoreState(const std::string& state) override;

private:
    void shuffle();
    Matrix m_data;  // [rows, dim]
    uint64_t m_seed;
    uint64_t m_epoch = 0;
    int64_t m_position = 0;
    std::vector<int64_t> m_order;  // [rows] permutation of this epoch
};

// Reads a 2-D activation matrix from .npy (float32/16/bf16/64).
Result<Matrix> readActivationsNpy(const std::string& path);

}  // namespace mono::acts
