#pragma once
// Result<T>: a value or the Status that explains why there is none.

#include <cassert>
#include <utility>
#include <variant>

#include "core/base/status.h"

namespace mono {

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
    Result(Status status) : m_state(std::in_place_index<1>, std::move(status)) {
        assert(!std::get<1>(m_state).ok() && "Result built from an ok Status has no value");
    }

    bool ok() const { return m_state.index() == 0; }
    explicit operator bool() const { return ok(); }

    // The error; Status::success() when there is a value.
    Status status() const { return ok() ? Status::success() : std::get<1>(m_state); }

    T& value() & {
        assert(ok());
        return std::get<0>(m_state);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(m_state);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(m_state));
    }

    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, Status> m_state;
};

}  // namespace mono

#define MONO_CONCAT_INNER(a, b) a##b
#define MONO_CONCAT(a, b) MONO_CONCAT_INNER(a, b)

// MONO_ASSIGN_OR_RETURN(auto file, SafetensorsFile::open(path));
// Declares `lhs` from a Result's value, or returns its Status.
#define MONO_ASSIGN_OR_RETURN(lhs, expr) \
    MONO_ASSIGN_OR_RETURN_IMPL(MONO_CONCAT(mono_result_, __LINE__), lhs, expr)
#define MONO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                             \
    if (!tmp.ok()) return tmp.status();            \
    lhs = std::move(tmp).value()
