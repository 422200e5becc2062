#pragma once
// Internal to core/io: a bounds-checked little-endian cursor over a byte range,
// and checked arithmetic. Every read either succeeds or leaves an error that
// names the source and the offset; nothing reads past the end.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace mono::io::detail {

inline bool mulOverflow(uint64_t a, uint64_t b, uint64_t* out) {
    return __builtin_mul_overflow(a, b, out);
}
inline bool addOverflow(uint64_t a, uint64_t b, uint64_t* out) {
    return __builtin_add_overflow(a, b, out);
}

// A printable, bounded rendering of a name taken from a file, for messages.
std::string quoteName(std::string_view s);

class ByteReader {
public:
    ByteReader(const uint8_t* data, size_t size, std::string source)
        : m_data(data), m_size(size), m_source(std::move(source)) {}

    uint64_t pos() const { return m_pos; }
    uint64_t remaining() const { return m_size - m_pos; }
    const uint8_t* here() const { return m_data + m_pos; }
    const std::string& source() const { return m_source; }

    // False (and an error naming `what`) when fewer than n bytes remain.
    bool need(uint64_t n, const char* what) {
        if (n <= remaining()) return true;
        m_error = Status::corruption(m_source + ": truncated " + what + " at offset " +
                                     std::to_string(m_pos) + ": need " + std::to_string(n) +
                                     " bytes, " + std::to_string(remaining()) + " left");
        return false;
    }
    bool skip(uint64_t n, const char* what) {
        if (!need(n, what)) return false;
        m_pos += n;
        return true;
    }
    template <class T>
    bool read(T* out, const char* what) {
        if (!need(sizeof(T), what)) return false;
        std::memcpy(out, m_data + m_pos, sizeof(T));  // little-endian host assumed
        m_pos += sizeof(T);
        return true;
    }
    bool readBytes(uint64_t n, std::string* out, const char* what) {
        if (!need(n, what)) return false;
        out->assign(reinterpret_cast<const char*>(m_data + m_pos), n);
        m_pos += n;
        return true;
    }
    void seek(uint64_t pos) { m_pos = pos <= m_size ? pos : m_size; }

    // Records an error at the current offset: "<source>: <message> at offset N".
    bool fail(StatusCode code, const std::string& message) {
        m_error = Status(code, m_source + ": " + message + " at offset " + std::to_string(m_pos));
        return false;
    }
    bool failAt(StatusCode code, const std::string& message, uint64_t offset) {
        m_error = Status(code, m_source + ": " + message + " at offset " + std::to_string(offset));
        return false;
    }
    const Status& error() const { return m_error; }

private:
    const uint8_t* m_data;
    uint64_t m_size;
    uint64_t m_pos = 0;
    std::string m_source;
    Status m_error;
};

}  // namespace mono::io::detail
