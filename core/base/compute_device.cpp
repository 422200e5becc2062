#include "core/base/compute_device.h"

#include <charconv>

namespace mono {

std::string ComputeDevice::name() const {
    return isCuda() ? "cuda:" + std::to_string(index) : "cpu";
}

Result<ComputeDevice> parseComputeDevice(const std::string& text) {
    const auto bad = [&] {
        return Status::invalidArgument("device '" + text +
                                       "': expected cpu, cuda or cuda:N (N = 0, 1, ...)");
    };
    ComputeDevice d;
    if (text == "cpu") return d;
    d.kind = ComputeDevice::Kind::kCuda;
    if (text == "cuda") return d;
    const std::string prefix = "cuda:";
    if (text.size() <= prefix.size() || text.compare(0, prefix.size(), prefix) != 0) return bad();
    const char* first = text.data() + prefix.size();
    const char* last = text.data() + text.size();
    const auto [end, ec] = std::from_chars(first, last, d.index);
    if (ec != std::errc() || end != last || d.index < 0) return bad();
    return d;
}

}  // namespace mono
