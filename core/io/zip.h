#pragma once
// A read-only view of a zip archive held in memory (.npz files, and PyTorch
// zip checkpoints that format detection refuses). Reads the central directory,
// zip64 records included; extracts stored and deflated members with CRC-32 and
// size checks. Encrypted or multi-disk archives are Unsupported.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/result.h"

namespace mono::io {

struct ZipEntry {
    std::string name;
    uint16_t method = 0;  // 0 stored, 8 deflated
    uint16_t flags = 0;
    uint32_t crc32 = 0;
    uint64_t compressedSize = 0;
    uint64_t uncompressedSize = 0;
    uint64_t localHeaderOffset = 0;
};

// Lists the members; `source` names the archive in errors. Corruption when the
// directory is damaged or points outside the data.
Result<std::vector<ZipEntry>> listZip(const uint8_t* data, size_t size, const std::string& source);

// Extracts one member listed by listZip. Never produces more than the declared
// uncompressed size; Corruption on a size or CRC-32 mismatch.
Result<std::vector<uint8_t>> extractZip(const uint8_t* data, size_t size, const ZipEntry& entry,
                                        const std::string& source);

}  // namespace mono::io
