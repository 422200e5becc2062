#pragma once
// Errors are values. A Status says what failed and why, with the file, offset or
// tensor first and the detail after: "model.safetensors: tensor 'wte': offsets
// [0, 96) exceed the data section (64 bytes)". Cancelled is not a failure.

#include <string>
#include <utility>

namespace mono {

enum class StatusCode {
    kOk,
    kInvalidArgument,    // the caller passed something unusable
    kNotFound,           // a file, tensor or key does not exist
    kCorruption,         // data is damaged or does not follow its format
    kUnsupported,        // valid, but something Monoscope does not handle
    kIoError,            // the operating system refused a read or write
    kOutOfRange,         // an index or size is beyond a limit
    kResourceExhausted,  // would need more memory or disk than allowed
    kCancelled,          // the user stopped the job
    kInternal,           // a bug: an invariant did not hold
};

const char* statusCodeName(StatusCode code);

class [[nodiscard]] Status {
public:
    Status() = default;  // ok
    Status(StatusCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

    static Status success() { return {}; }
    static Status invalidArgument(std::string m) {
        return {StatusCode::kInvalidArgument, std::move(m)};
    }
    static Status notFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
    static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
    static Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
    static Status ioError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
    static Status outOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
    static Status resourceExhausted(std::string m) {
        return {StatusCode::kResourceExhausted, std::move(m)};
    }
    static Status cancelled(std::string m = "cancelled") {
        return {StatusCode::kCancelled, std::move(m)};
    }
    static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

    bool ok() const { return m_code == StatusCode::kOk; }
    bool isCancelled() const { return m_code == StatusCode::kCancelled; }
    StatusCode code() const { return m_code; }
    const std::string& message() const { return m_message; }

    // "Corruption: <message>", or "OK".
    std::string toString() const;

    // Same code, message prefixed with "context: " (e.g. a file name).
    Status withContext(const std::string& context) const;

private:
    StatusCode m_code = StatusCode::kOk;
    std::string m_message;
};

}  // namespace mono

// Returns the Status of `expr` from the enclosing function if it is not ok.
#define MONO_RETURN_IF_ERROR(expr)                   \
    do {                                             \
        ::mono::Status mono_status_ = (expr);        \
        if (!mono_status_.ok()) return mono_status_; \
    } while (0)
