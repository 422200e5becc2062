#include "app/cli/example_text.h"

#include <algorithm>
#include <cstdio>

namespace mono::cli {

std::string visibleText(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\n')
            out += "\u21B5";
        else if (c == '\t' || c == '\r')
            out += ' ';
        else
            out += c;
    }
    return out;
}

std::string renderExample(const features::Example& e, int radius) {
    std::string out;
    size_t first = 0, last = e.strings.size();
    if (radius >= 0) {
        first = static_cast<size_t>(std::max(0, e.tokenIndex - radius));
        last = std::min(last, static_cast<size_t>(e.tokenIndex + radius + 1));
    }
    for (size_t t = first; t < last; ++t) {
        const std::string s = visibleText(e.strings[t]);
        if (static_cast<int>(t) == e.tokenIndex) {
            out += "\u00AB" + s + "\u00BB";
        } else if (t < e.values.size() && e.values[t] > 0) {
            char v[32];
            std::snprintf(v, sizeof v, "%.2g", double(e.values[t]));
            out += s + "[" + v + "]";
        } else {
            out += s;
        }
    }
    return out;
}

}  // namespace mono::cli
