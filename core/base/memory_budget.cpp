#include "core/base/memory_budget.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace mono {

uint64_t usableMemoryBytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long pageSize = ::sysconf(_SC_PAGESIZE);
    uint64_t bytes = pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize) : 0;
    for (int resource : {RLIMIT_AS, RLIMIT_DATA}) {
        struct rlimit limit {};
        if (::getrlimit(resource, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
            bytes = bytes ? std::min<uint64_t>(bytes, limit.rlim_cur) : limit.rlim_cur;
    }
    return bytes;
}

Status checkMemoryNeed(const std::string& what, double bytes) {
    const uint64_t usable = usableMemoryBytes();
    if (usable == 0 || bytes <= double(usable)) return Status::success();
    constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
    char text[160];
    std::snprintf(text, sizeof text,
                  " needs about %.1f GiB of memory, more than the %.1f GiB "
                  "this process may use",
                  bytes / kGiB, double(usable) / kGiB);
    return Status::resourceExhausted(what + text);
}

}  // namespace mono
