// NumPy .npy and .npz. Byte layout of .npy (numpy/lib/format.py):
//   "\x93NUMPY" | u8 major | u8 minor | header length (u16 for 1.0, u32 for 2.0/3.0)
//   | header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//     padded with spaces and a final '\n' so the data starts 64-byte aligned
//   | data: C order, exactly prod(shape) * itemsize bytes.
// .npz is a zip whose members are "<key>.npy" (see zip.h).

#include "core/io/npy.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "core/base/atomic_file.h"
#include "core/base/text.h"
#include "core/io/byte_reader.h"
#include "core/io/mapped_file.h"
#include "core/io/zip.h"

namespace mono::io {

namespace {

using detail::quoteName;

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct NpyType {
    char kind;  // 'f', 'i', 'u', 'b'
    int size;
    DType dtype;
};
constexpr NpyType kNpyTypes[] = {
    {'f', 4, DType::kF32}, {'f', 2, DType::kF16}, {'f', 8, DType::kF64},
    {'i', 1, DType::kI8},  {'u', 1, DType::kU8},  {'i', 2, DType::kI16},
    {'i', 4, DType::kI32}, {'i', 8, DType::kI64}, {'b', 1, DType::kBool},
};

// A hand-written reader for the one dict shape numpy writes; anything else is
// rejected rather than guessed at.
class HeaderParser {
public:
    HeaderParser(std::string_view text) : m_s(text) {}

    struct Value {
        enum Kind { kString, kBool, kTuple, kOther } kind = kOther;
        std::string str;
        bool boolean = false;
        std::vector<int64_t> ints;
    };

    bool parse(std::string* error) {
        skipWs();
        if (!eat('{')) return fail(error, "header does not start with '{'");
        while (true) {
            skipWs();
            if (eat('}')) break;
            std::string key;
            if (!parseString(&key)) return fail(error, "expected a quoted key");
            skipWs();
            if (!eat(':')) return fail(error, "expected ':' after key " + quoteName(key));
            skipWs();
            Value v;
            if (!parseValue(&v, error)) return false;
            if (key != "descr" && key != "fortran_order" && key != "shape")
                return fail(error, "unexpected key " + quoteName(key));
            if (m_seen.count(key)) return fail(error, "duplicate key " + quoteName(key));
            m_seen.insert(key);
            m_values[key] = std::move(v);
            skipWs();
            if (eat(',')) continue;
            skipWs();
            if (eat('}')) break;
            return fail(error, "expected ',' or '}' at header byte " + std::to_string(m_pos));
        }
        skipWs();
        if (m_pos != m_s.size())
            return fail(error,
                        "unexpected text after the header dict at byte " + std::to_string(m_pos));
        if (m_seen.size() != 3)
            return fail(error, "header needs the keys 'descr', 'fortran_order' and 'shape'");
        return true;
    }

    const Value& get(const std::string& k) const { return m_values.at(k); }

private:
    bool fail(std::string* error, const std::string& m) {
        *error = m;
        return false;
    }
    void skipWs() {
        while (m_pos < m_s.size() && (m_s[m_pos] == ' ' || m_s[m_pos] == '\n' ||
                                      m_s[m_pos] == '\t' || m_s[m_pos] == '\r'))
            ++m_pos;
    }
    bool eat(char c) {
        if (m_pos < m_s.size() && m_s[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    bool parseString(std::string* out) {
        if (m_pos >= m_s.size() || (m_s[m_pos] != '\'' && m_s[m_pos] != '"')) return false;
        const char q = m_s[m_pos++];
        const size_t start = m_pos;
        while (m_pos < m_s.size() && m_s[m_pos] != q) {
            if (m_s[m_pos] == '\\' || m_s[m_pos] == '\n') return false;
            ++m_pos;
        }
        if (m_pos >= m_s.size()) return false;
        out->assign(m_s.substr(start, m_pos - start));
        ++m_pos;
        return true;
    }
    bool parseInt(int64_t* out) {
        const size_t start = m_pos;
        uint64_t v = 0;
        while (m_pos < m_s.size() && m_s[m_pos] >= '0' && m_s[m_pos] <= '9') {
            if (v > (static_cast<uint64_t>(INT64_MAX) - 9) / 10) return false;
            v = v * 10 + static_cast<uint64_t>(m_s[m_pos] - '0');
            ++m_pos;
        }
        if (m_pos == start) return false;
        eat('L');  // Python 2 wrote longs as 3L
        *out = static_cast<int64_t>(v);
        return true;
    }
    bool parseValue(Value* v, std::string* error) {
        if (m_pos >= m_s.size()) return fail(error, "header ends inside a value");
        const char c = m_s[m_pos];
        if (c == '\'' || c == '"') {
            v->kind = Value::kString;
            if (!parseString(&v->str)) return fail(error, "unterminated string");
            return true;
        }
        if (m_s.substr(m_pos, 4) == "True") {
            m_pos += 4;
            v->kind = Value::kBool;
            v->boolean = true;
            return true;
        }
        if (m_s.substr(m_pos, 5) == "False") {
            m_pos += 5;
            v->kind = Value::kBool;
            return true;
        }
        if (c == '(') {
            ++m_pos;
            v->kind = Value::kTuple;
            while (true) {
                skipWs();
                if (eat(')')) return true;
                int64_t d = 0;
                if (!parseInt(&d))
                    return fail(error, "shape holds something other than non-negative integers");
                if (v->ints.size() >= 64) return fail(error, "shape has more than 64 dimensions");
                v->ints.push_back(d);
                skipWs();
                if (eat(',')) continue;
                skipWs();
                if (eat(')')) return true;
                return fail(error, "malformed shape tuple");
            }
        }
        if (c == '[') return fail(error, "list values (a structured dtype?) are not supported");
        return fail(error, "unexpected value at header byte " + std::to_string(m_pos));
    }

    std::string_view m_s;
    size_t m_pos = 0;
    std::set<std::string> m_seen;
    std::map<std::string, Value> m_values;
};

bool npyDescr(DType t, std::string* descr) {
    for (const auto& n : kNpyTypes)
        if (n.dtype == t) {
            *descr = std::string(n.size == 1 ? "|" : "<") + n.kind + std::to_string(n.size);
            return true;
        }
    return false;
}

Result<std::string> encodeNpy(const NpyArray& a, const std::string& source) {
    std::string descr;
    if (!npyDescr(a.dtype, &descr))
        return Status::invalidArgument(source + ": dtype " + dtypeName(a.dtype) +
                                       " has no NumPy equivalent");
    uint64_t numel = 1;
    for (int64_t d : a.shape)
        if (d < 0 || detail::mulOverflow(numel, static_cast<uint64_t>(d), &numel))
            return Status::invalidArgument(source + ": invalid shape " + shapeString(a.shape));
    uint64_t bytes = 0;
    if (!dtypeByteSize(a.dtype, numel, &bytes) || bytes != a.bytes.size())
        return Status::invalidArgument(source + ": " + dtypeName(a.dtype) + " " +
                                       shapeString(a.shape) + " needs " + std::to_string(bytes) +
                                       " bytes, the array holds " + std::to_string(a.bytes.size()));
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < a.shape.size(); ++i) {
        if (i) dict += ", ";
        dict += std::to_string(a.shape[i]);
    }
    if (a.shape.size() == 1) dict += ",";
    dict += "), }";
    // Pad with spaces and a '\n' so the data starts 64-byte aligned, as numpy does;
    // version 2.0 only when the header outgrows the u16 length.
    auto padFor = [&](size_t prefix) { return (64 - (prefix + dict.size() + 1) % 64) % 64; };
    bool v2 = dict.size() + padFor(10) + 1 > 65535;
    dict.append(padFor(v2 ? 12 : 10), ' ');
    dict += '\n';
    std::string out(kMagic, kMagicLen);
    out += static_cast<char>(v2 ? 2 : 1);
    out += '\0';
    const uint32_t hlen = static_cast<uint32_t>(dict.size());
    out.append(reinterpret_cast<const char*>(&hlen), v2 ? 4 : 2);
    out += dict;
    out.append(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
    return out;
}

}  // namespace

TensorView NpyArray::view(const std::string& name) const {
    TensorView t;
    t.name = name;
    t.dtype = dtype;
    t.shape = shape;
    t.data = bytes.data();
    t.nbytes = bytes.size();
    return t;
}

Result<NpyArray> parseNpy(const uint8_t* data, size_t size, const std::string& source) {
    if (size < kMagicLen + 4 || std::memcmp(data, kMagic, kMagicLen) != 0)
        return Status::corruption(source + ": not a .npy array (bad magic; expected \\x93NUMPY)");
    const uint8_t major = data[6], minor = data[7];
    if (major < 1 || major > 3 || minor != 0)
        return Status::unsupported(source + ": .npy format version " + std::to_string(major) + "." +
                                   std::to_string(minor) + " is not supported (1.0, 2.0, 3.0)");
    uint64_t hlen = 0, hstart = 10;
    if (major == 1) {
        uint16_t h;
        std::memcpy(&h, data + 8, 2);
        hlen = h;
    } else {
        if (size < 12) return Status::corruption(source + ": truncated header length at offset 8");
        uint32_t h;
        std::memcpy(&h, data + 8, 4);
        hlen = h;
        hstart = 12;
    }
    if (hlen > size - hstart)
        return Status::corruption(source + ": header length " + std::to_string(hlen) +
                                  " exceeds the " + std::to_string(size - hstart) +
                                  " bytes after offset " + std::to_string(hstart));
    std::string_view text(reinterpret_cast<const char*>(data + hstart), hlen);
    // 1.0/2.0 headers are latin-1 (numpy writes ASCII); 3.0 is UTF-8.
    if (major == 3 ? !isValidUtf8(text)
                   : std::any_of(text.begin(), text.end(), [](char c) { return c & 0x80; }))
        return Status::corruption(source + ": header at offset " + std::to_string(hstart) +
                                  " is not valid " + (major == 3 ? "UTF-8" : "ASCII"));
    HeaderParser hp(text);
    std::string err;
    if (!hp.parse(&err)) {
        const bool unsupported = err.find("not supported") != std::string::npos;
        return Status(unsupported ? StatusCode::kUnsupported : StatusCode::kCorruption,
                      source + ": header at offset " + std::to_string(hstart) + ": " + err);
    }
    const auto& descr = hp.get("descr");
    const auto& fortran = hp.get("fortran_order");
    const auto& shape = hp.get("shape");
    if (descr.kind != HeaderParser::Value::kString || fortran.kind != HeaderParser::Value::kBool ||
        shape.kind != HeaderParser::Value::kTuple)
        return Status::corruption(source + ": header values have the wrong types (descr '" +
                                  "string', fortran_order bool, shape tuple)");
    if (fortran.boolean)
        return Status::unsupported(source +
                                   ": Fortran-order arrays are not supported; save with "
                                   "np.ascontiguousarray first");
    NpyArray a;
    const std::string& d = descr.str;
    bool known = false;
    if (d.size() >= 3) {
        const char order = d[0];
        const char kind = d[1];
        const std::string sizeText = d.substr(2);
        for (const auto& n : kNpyTypes) {
            if (n.kind != kind || sizeText != std::to_string(n.size)) continue;
            if (order == '>' && n.size > 1)
                return Status::unsupported(source + ": big-endian dtype " + quoteName(d) +
                                           " is not supported; convert with "
                                           "arr.astype(arr.dtype.newbyteorder('<'))");
            if (order != '<' && order != '|' && !(order == '>' && n.size == 1)) break;
            a.dtype = n.dtype;
            known = true;
        }
    }
    if (!known)
        return Status::unsupported(source + ": dtype " + quoteName(d) +
                                   " is not supported (f2 f4 f8 i1 i2 i4 i8 u1 b1)");
    uint64_t numel = 1;
    for (int64_t dim : shape.ints) {
        if (detail::mulOverflow(numel, static_cast<uint64_t>(dim), &numel))
            return Status::corruption(source + ": shape " + shapeString(shape.ints) + " overflows");
        a.shape.push_back(dim);
    }
    uint64_t bytes = 0;
    const uint64_t dataStart = hstart + hlen;
    const uint64_t avail = size - dataStart;
    if (!dtypeByteSize(a.dtype, numel, &bytes) || bytes != avail)
        return Status::corruption(
            source + ": " + dtypeName(a.dtype) + " " + shapeString(a.shape) + " needs " +
            (dtypeByteSize(a.dtype, numel, &bytes) ? std::to_string(bytes) : "more than 2^64") +
            " bytes of data, the file holds " + std::to_string(avail) + " after offset " +
            std::to_string(dataStart));
    a.bytes.assign(data + dataStart, data + size);
    return a;
}

Result<NpyArray> readNpy(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
    return parseNpy(map.data(), map.size(), path);
}

Status writeNpy(const std::string& path, const NpyArray& array) {
    MONO_ASSIGN_OR_RETURN(std::string bytes, encodeNpy(array, path));
    return writeFileAtomic(path, bytes);
}

Result<std::map<std::string, NpyArray>> readNpz(const std::string& path) {
    MONO_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
    MONO_ASSIGN_OR_RETURN(auto entries, listZip(map.data(), map.size(), path));
    std::map<std::string, NpyArray> out;
    for (const auto& e : entries) {
        std::string key = e.name;
        if (key.size() < 4 || key.compare(key.size() - 4, 4, ".npy") != 0)
            return Status::unsupported(path + ": member " + quoteName(e.name) +
                                       " is not an .npy array");
        key.resize(key.size() - 4);
        if (out.count(key))
            return Status::corruption(path + ": duplicate member " + quoteName(e.name));
        MONO_ASSIGN_OR_RETURN(auto bytes, extractZip(map.data(), map.size(), e, path));
        MONO_ASSIGN_OR_RETURN(NpyArray a,
                              parseNpy(bytes.data(), bytes.size(), path + ":" + e.name));
        out.emplace(std::move(key), std::move(a));
    }
    return out;
}

Status writeNpz(const std::string& path, const std::map<std::string, NpyArray>& arrays) {
    // A stored zip: local header + .npy bytes per member, then the central
    // directory and the end record. Fixed timestamps keep files reproducible.
    constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
    std::string central;
    MONO_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::create(path));
    uint64_t offset = 0;
    auto put16 = [](std::string& s, uint16_t v) { s.append(reinterpret_cast<char*>(&v), 2); };
    auto put32 = [](std::string& s, uint32_t v) { s.append(reinterpret_cast<char*>(&v), 4); };
    if (arrays.size() > 0xFFFE)
        return Status::invalidArgument(path + ": too many arrays for a zip without zip64");
    for (const auto& [key, a] : arrays) {
        const std::string name = key + ".npy";
        if (key.empty() || name.size() > 0xFFFF)
            return Status::invalidArgument(path + ": invalid array name " + quoteName(key));
        MONO_ASSIGN_OR_RETURN(std::string npy, encodeNpy(a, path + ":" + name));
        if (npy.size() >= 0xFFFFFFFFu || offset >= 0xFFFFFFFFu)
            return Status::unsupported(path + ": members over 4 GiB need zip64, not written");
        const uint32_t crc = static_cast<uint32_t>(crc32_z(
            crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(npy.data()), npy.size()));
        const uint16_t flags =
            isValidUtf8(name) &&
                    std::any_of(name.begin(), name.end(), [](char c) { return c & 0x80; })
                ? 0x800
                : 0;
        std::string local;
        put32(local, 0x04034b50);
        put16(local, 20);
        put16(local, flags);
        put16(local, 0);  // stored
        put16(local, 0);
        put16(local, kDosDate);
        put32(local, crc);
        put32(local, static_cast<uint32_t>(npy.size()));
        put32(local, static_cast<uint32_t>(npy.size()));
        put16(local, static_cast<uint16_t>(name.size()));
        put16(local, 0);
        local += name;

        put32(central, 0x02014b50);
        put16(central, 20);
        put16(central, 20);
        put16(central, flags);
        put16(central, 0);
        put16(central, 0);
        put16(central, kDosDate);
        put32(central, crc);
        put32(central, static_cast<uint32_t>(npy.size()));
        put32(central, static_cast<uint32_t>(npy.size()));
        put16(central, static_cast<uint16_t>(name.size()));
        put16(central, 0);  // extra
        put16(central, 0);  // comment
        put16(central, 0);  // disk
        put16(central, 0);  // internal attributes
        put32(central, 0);  // external attributes
        put32(central, static_cast<uint32_t>(offset));
        central += name;

        MONO_RETURN_IF_ERROR(w.write(local));
        MONO_RETURN_IF_ERROR(w.write(npy));
        offset += local.size() + npy.size();
    }
    if (offset + central.size() >= 0xFFFFFFFFu)
        return Status::unsupported(path + ": archives over 4 GiB need zip64, not written");
    std::string end;
    put32(end, 0x06054b50);
    put16(end, 0);
    put16(end, 0);
    put16(end, static_cast<uint16_t>(arrays.size()));
    put16(end, static_cast<uint16_t>(arrays.size()));
    put32(end, static_cast<uint32_t>(central.size()));
    put32(end, static_cast<uint32_t>(offset));
    put16(end, 0);
    MONO_RETURN_IF_ERROR(w.write(central));
    MONO_RETURN_IF_ERROR(w.write(end));
    return w.commit();
}

}  // namespace mono::io
