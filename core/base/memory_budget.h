#pragma once
// Refusing an allocation before it is attempted: a size the user chose (an SAE
// with 10^9 features) should fail with "needs N GiB", not with std::bad_alloc
// half-way through, or with the kernel's OOM killer.

#include <cstdint>
#include <string>

#include "core/base/status.h"

namespace mono {

// The memory this process may use: physical memory, lowered by RLIMIT_AS and
// RLIMIT_DATA when they are set. 0 when it cannot be determined.
uint64_t usableMemoryBytes();

// ResourceExhausted "<what> needs about N GiB, more than the M GiB this
// machine has" when `bytes` (an estimate; a double so that products of user
// sizes cannot overflow) exceeds usableMemoryBytes(). Ok otherwise.
Status checkMemoryNeed(const std::string& what, double bytes);

}  // namespace mono
