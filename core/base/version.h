#pragma once

namespace mono {
// The project version, from CMake's project() call.
inline constexpr const char* kVersion = MONO_VERSION;
}  // namespace mono
