#pragma once
// The float matrix types of the numerics: row-major, one token (or one
// feature) per row, so a row is contiguous and matches the file layouts.

#include <Eigen/Core>

namespace mono {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::Matrix<float, 1, Eigen::Dynamic, Eigen::RowMajor>;  // a row vector

}  // namespace mono
