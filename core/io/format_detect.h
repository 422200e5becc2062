#pragma once
// Which model/tensor file format a path holds, decided by magic bytes first and
// the extension second. Pickle-based PyTorch checkpoints are recognised only to
// be refused: unpickling can run arbitrary code.

#include <string>

#include "core/base/result.h"

namespace mono::io {

enum class FileFormat { kSafetensors, kGguf, kNpy, kNpz, kLlama2c };

// Reads at most the file's first bytes and, for zips, its central directory.
// Errors: NotFound / IoError; Unsupported for pickle checkpoints (a zip with a
// data.pkl member, or a file starting with a pickle protocol header), with a
// message that explains why and suggests converting to safetensors; Unsupported
// naming the path when nothing matches.
Result<FileFormat> detectFileFormat(const std::string& path);

}  // namespace mono::io
