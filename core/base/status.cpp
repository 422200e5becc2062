#include "core/base/status.h"

namespace mono {

const char* statusCodeName(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return "OK";
        case StatusCode::kInvalidArgument:
            return "Invalid argument";
        case StatusCode::kNotFound:
            return "Not found";
        case StatusCode::kCorruption:
            return "Corruption";
        case StatusCode::kUnsupported:
            return "Unsupported";
        case StatusCode::kIoError:
            return "I/O error";
        case StatusCode::kOutOfRange:
            return "Out of range";
        case StatusCode::kResourceExhausted:
            return "Resource exhausted";
        case StatusCode::kCancelled:
            return "Cancelled";
        case StatusCode::kInternal:
            return "Internal error";
    }
    return "Unknown";
}

std::string Status::toString() const {
    if (ok()) return "OK";
    return std::string(statusCodeName(m_code)) + ": " + m_message;
}

Status Status::withContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(m_code, context + ": " + m_message);
}

}  // namespace mono
