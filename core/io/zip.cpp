// Zip reading, enough for .npz. Layout (APPNOTE.TXT), all little-endian:
//   local header  "PK\3\4" (30 bytes + name + extra) | member data   (per member)
//   central directory entries "PK\1\2" (46 bytes + name + extra + comment)
//   [zip64 end record "PK\6\6" + zip64 locator "PK\6\7"]
//   end of central directory "PK\5\6" (22 bytes + comment, at most 65535)
// Fields that overflow 32 bits are 0xFFFFFFFF and live in the zip64 extra (id 1).

#include "core/io/zip.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "core/io/byte_reader.h"

namespace mono::io {

namespace {

using detail::quoteName;

constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint64_t kEocdSize = 22;
constexpr uint64_t kCentralSize = 46;
constexpr uint64_t kLocalSize = 30;
// deflate cannot compress better than about 1032:1; a larger claim is a lie.
constexpr uint64_t kMaxDeflateRatio = 1100;

template <class T>
T at(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

Status corrupt(const std::string& source, const std::string& what) {
    return Status::corruption(source + ": " + what);
}

}  // namespace

Result<std::vector<ZipEntry>> listZip(const uint8_t* data, size_t size, const std::string& source) {
    if (size < kEocdSize)
        return corrupt(source, "too short for a zip archive (" + std::to_string(size) + " bytes)");
    // The end record sits in the last 22 + 65535 bytes; search backwards.
    uint64_t eocd = UINT64_MAX;
    const uint64_t lowest = size > kEocdSize + 65535 ? size - kEocdSize - 65535 : 0;
    for (uint64_t pos = size - kEocdSize + 1; pos-- > lowest;) {
        if (at<uint32_t>(data + pos) == kEocdSig &&
            pos + kEocdSize + at<uint16_t>(data + pos + 20) <= size) {
            eocd = pos;
            break;
        }
    }
    if (eocd == UINT64_MAX) return corrupt(source, "no zip end-of-central-directory record");
    const uint8_t* e = data + eocd;
    if (at<uint16_t>(e + 4) != 0 || at<uint16_t>(e + 6) != 0)
        return Status::unsupported(source + ": multi-disk zip archives are not supported");
    uint64_t entries = at<uint16_t>(e + 10);
    uint64_t cdSize = at<uint32_t>(e + 12);
    uint64_t cdOffset = at<uint32_t>(e + 16);
    uint64_t cdLimit = eocd;  // the directory must end before the records that describe it

    if (eocd >= 20 && at<uint32_t>(data + eocd - 20) == kZip64LocatorSig) {
        const uint64_t z = at<uint64_t>(data + eocd - 20 + 8);
        if (z > eocd - 20 || eocd - 20 - z < 56 || at<uint32_t>(data + z) != kZip64EocdSig)
            return corrupt(source, "zip64 locator points to offset " + std::to_string(z) +
                                       ", which holds no zip64 end record");
        entries = at<uint64_t>(data + z + 32);
        cdSize = at<uint64_t>(data + z + 40);
        cdOffset = at<uint64_t>(data + z + 48);
        cdLimit = z;
    } else if (entries == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF) {
        return corrupt(source, "zip end record needs zip64 values but no zip64 locator exists");
    }
    if (cdOffset > cdLimit || cdSize > cdLimit - cdOffset)
        return corrupt(source, "central directory [" + std::to_string(cdOffset) + ", +" +
                                   std::to_string(cdSize) + ") lies outside the archive");
    if (entries > cdSize / kCentralSize)
        return corrupt(source, std::to_string(entries) + " entries cannot fit in a " +
                                   std::to_string(cdSize) + "-byte central directory");

    std::vector<ZipEntry> out;
    out.reserve(entries);
    uint64_t pos = cdOffset;
    const uint64_t cdEnd = cdOffset + cdSize;
    for (uint64_t i = 0; i < entries; ++i) {
        if (cdEnd - pos < kCentralSize || at<uint32_t>(data + pos) != kCentralSig)
            return corrupt(source, "central directory entry #" + std::to_string(i) +
                                       " is damaged at offset " + std::to_string(pos));
        const uint8_t* c = data + pos;
        ZipEntry z;
        z.flags = at<uint16_t>(c + 8);
        z.method = at<uint16_t>(c + 10);
        z.crc32 = at<uint32_t>(c + 16);
        z.compressedSize = at<uint32_t>(c + 20);
        z.uncompressedSize = at<uint32_t>(c + 24);
        const uint64_t nameLen = at<uint16_t>(c + 28);
        const uint64_t extraLen = at<uint16_t>(c + 30);
        const uint64_t commentLen = at<uint16_t>(c + 32);
        z.localHeaderOffset = at<uint32_t>(c + 42);
        if (cdEnd - pos - kCentralSize < nameLen + extraLen + commentLen)
            return corrupt(source, "central directory entry #" + std::to_string(i) +
                                       " runs past the directory at offset " + std::to_string(pos));
        z.name.assign(reinterpret_cast<const char*>(c + kCentralSize), nameLen);
        // zip64 extra: the 64-bit values, in this order, for fields that were 0xFFFFFFFF.
        const uint8_t* x = c + kCentralSize + nameLen;
        const uint8_t* xEnd = x + extraLen;
        while (xEnd - x >= 4) {
            const uint16_t id = at<uint16_t>(x);
            const uint16_t len = at<uint16_t>(x + 2);
            if (xEnd - x - 4 < len)
                return corrupt(source, "member " + quoteName(z.name) + ": extra field overruns");
            if (id == 1) {
                const uint8_t* v = x + 4;
                uint64_t left = len;
                for (uint64_t* field :
                     {&z.uncompressedSize, &z.compressedSize, &z.localHeaderOffset}) {
                    if (*field != 0xFFFFFFFF) continue;
                    if (left < 8)
                        return corrupt(source,
                                       "member " + quoteName(z.name) + ": zip64 extra too short");
                    *field = at<uint64_t>(v);
                    v += 8;
                    left -= 8;
                }
            }
            x += 4 + len;
        }
        out.push_back(std::move(z));
        pos += kCentralSize + nameLen + extraLen + commentLen;
    }
    return out;
}

Result<std::vector<uint8_t>> extractZip(const uint8_t* data, size_t size, const ZipEntry& z,
                                        const std::string& source) {
    const std::string ctx = source + ": member " + quoteName(z.name);
    if (z.flags & 1) return Status::unsupported(ctx + ": encrypted zip members are not supported");
    if (z.method != 0 && z.method != 8)
        return Status::unsupported(ctx + ": compression method " + std::to_string(z.method) +
                                   " (only stored and deflate are supported)");
    const uint64_t lh = z.localHeaderOffset;
    if (lh > size || size - lh < kLocalSize || at<uint32_t>(data + lh) != kLocalSig)
        return Status::corruption(ctx + ": no local header at offset " + std::to_string(lh));
    const uint64_t start =
        lh + kLocalSize + at<uint16_t>(data + lh + 26) + at<uint16_t>(data + lh + 28);
    if (start > size || z.compressedSize > size - start)
        return Status::corruption(ctx + ": data [" + std::to_string(start) + ", +" +
                                  std::to_string(z.compressedSize) + ") runs past the end (" +
                                  std::to_string(size) + " bytes)");
    const uint8_t* in = data + start;
    if (z.method == 0 && z.compressedSize != z.uncompressedSize)
        return Status::corruption(ctx + ": stored member with compressed size " +
                                  std::to_string(z.compressedSize) + " != uncompressed size " +
                                  std::to_string(z.uncompressedSize));
    if (z.method == 8 && z.uncompressedSize / kMaxDeflateRatio > z.compressedSize + 1)
        return Status::corruption(ctx + ": declares " + std::to_string(z.uncompressedSize) +
                                  " bytes from " + std::to_string(z.compressedSize) +
                                  " compressed, beyond what deflate can produce");
    if (z.uncompressedSize > SIZE_MAX / 2)
        return Status::resourceExhausted(ctx + ": " + std::to_string(z.uncompressedSize) +
                                         " bytes do not fit in memory");
    std::vector<uint8_t> out(z.uncompressedSize);
    if (z.method == 0) {
        if (!out.empty()) std::memcpy(out.data(), in, out.size());
    } else {
        z_stream s{};
        Bytef dummy = 0;  // zlib rejects a null next_out even when nothing is to be written
        s.next_out = &dummy;
        if (inflateInit2(&s, -15) != Z_OK)
            return Status::internal(ctx + ": zlib inflateInit2 failed");
        uint64_t inLeft = z.compressedSize, outDone = 0;
        const uint8_t* inPos = in;
        int ret = Z_OK;
        // Feed in chunks that fit zlib's 32-bit counters; output is capped at the declared size.
        while (true) {
            if (s.avail_in == 0 && inLeft > 0) {
                const uInt chunk = static_cast<uInt>(std::min<uint64_t>(inLeft, 1u << 30));
                s.next_in = const_cast<Bytef*>(inPos);
                s.avail_in = chunk;
                inPos += chunk;
                inLeft -= chunk;
            }
            if (s.avail_out == 0 && outDone < out.size()) {
                const uInt chunk =
                    static_cast<uInt>(std::min<uint64_t>(out.size() - outDone, 1u << 30));
                s.next_out = out.data() + outDone;
                s.avail_out = chunk;
                outDone += chunk;
            }
            ret = inflate(&s, Z_NO_FLUSH);
            if (ret != Z_OK) break;
        }
        const uint64_t produced = s.total_out;
        inflateEnd(&s);
        if (ret != Z_STREAM_END)
            return Status::corruption(
                ctx + (ret == Z_BUF_ERROR
                           ? ": deflate data does not end within the declared " +
                                 std::to_string(z.uncompressedSize) + " bytes"
                           : ": deflate data is damaged (zlib error " + std::to_string(ret) + ")"));
        if (produced != z.uncompressedSize)
            return Status::corruption(ctx + ": inflated to " + std::to_string(produced) +
                                      " bytes, the directory declares " +
                                      std::to_string(z.uncompressedSize));
    }
    uLong crc = crc32_z(0L, Z_NULL, 0);
    crc = crc32_z(crc, out.data(), out.size());
    if (static_cast<uint32_t>(crc) != z.crc32)
        return Status::corruption(ctx + ": CRC-32 mismatch (directory says " +
                                  std::to_string(z.crc32) + ", data gives " +
                                  std::to_string(static_cast<uint32_t>(crc)) + ")");
    return out;
}

}  // namespace mono::io
