#include "core/acts/batch_provider.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <sstream>

#include "core/io/npy.h"

namespace mono::acts {

MatrixBatchProvider::MatrixBatchProvider(Matrix data, uint64_t seed)
    : m_data(std::move(data)), m_seed(seed) {
    shuffle();
}

void MatrixBatchProvider::shuffle() {
    m_order.resize(m_data.rows());
    std::iota(m_order.begin(), m_order.end(), int64_t{0});
    // The permutation depends only on (seed, epoch), so a saved position is enough
    // to rebuild it after a restart.
    std::mt19937_64 rng(m_seed * 0x9E3779B97F4A7C15ull + m_epoch);
    for (int64_t i = static_cast<int64_t>(m_order.size()) - 1; i > 0; --i) {
        std::uniform_int_distribution<int64_t> pick(0, i);
        std::swap(m_order[i], m_order[pick(rng)]);
    }
}

Status MatrixBatchProvider::next(Matrix& out) {
    if (m_data.rows() == 0) return Status::invalidArgument("batch provider: no activation rows");
    if (out.cols() != m_data.cols())
        return Status::invalidArgument("batch provider: batch width " + std::to_string(out.cols()) +
                                       " does not match " + std::to_string(m_data.cols()));
    for (int64_t r = 0; r < out.rows(); ++r) {
        if (m_position >= m_data.rows()) {
            ++m_epoch;
            m_position = 0;
            shuffle();
        }
        out.row(r) = m_data.row(m_order[m_position++]);
    }
    return Status::success();
}

std::string MatrixBatchProvider::saveState() const {
    return "matrix " + std::to_string(m_seed) + " " + std::to_string(m_epoch) + " " +
           std::to_string(m_position);
}

Status MatrixBatchProvider::restoreState(const std::string& state) {
    std::istringstream in(state);
    std::string tag;
    uint64_t seed = 0, epoch = 0;
    int64_t position = 0;
    if (!(in >> tag >> seed >> epoch >> position) || tag != "matrix" || position < 0 ||
        position > m_data.rows())
        return Status::corruption(
            "batch provider state: expected 'matrix <seed> <epoch> "
            "<position>', found '" +
            state + "'");
    if (seed != m_seed)
        return Status::invalidArgument("batch provider state: saved with seed " +
                                       std::to_string(seed) + ", this run uses " +
                                       std::to_string(m_seed));
    m_epoch = epoch;
    m_position = position;
    shuffle();
    return Status::success();
}

Result<Matrix> readActivationsNpy(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(io::NpyArray array, io::readNpy(path));
    if (array.shape.size() != 2 || array.shape[0] <= 0 || array.shape[1] <= 0) {
        std::string shape;
        for (size_t i = 0; i < array.shape.size(); ++i)
            shape += (i ? ", " : "") + std::to_string(array.shape[i]);
        return Status::invalidArgument(path +
                                       ": expected a 2-D activation matrix [tokens, d_in], "
                                       "found shape [" +
                                       shape + "]");
    }
    MONO_ASSIGN_OR_RETURN(std::vector<float> values, io::toFloat(array.view(path)));
    Matrix m(array.shape[0], array.shape[1]);  // [N, D]
    std::memcpy(m.data(), values.data(), values.size() * sizeof(float));
    return m;
}

}  // namespace mono::acts
