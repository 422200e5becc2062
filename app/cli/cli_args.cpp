#include "app/cli/cli_args.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace mono::cli {
namespace {

bool looksLikeNumber(const std::string& s) {
    if (s.size() < 2 || s[0] != '-') return false;
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    return end && *end == '\0';
}

}  // namespace

bool CliArgs::parse(int argc, char** argv, int first, const std::set<std::string>& flags) {
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.size() < 2 || arg[0] != '-' || looksLikeNumber(arg)) {
            m_positionals.push_back(arg);
            continue;
        }
        std::string name = arg.substr(arg.find_first_not_of('-'));
        std::optional<std::string> value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (flags.count(name)) {
            if (value) {
                m_error = "--" + name + " takes no value";
                return false;
            }
            m_flags.insert(name);
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                m_error = "option " + arg + " needs a value";
                return false;
            }
            value = argv[++i];
        }
        m_options.emplace_back(name, *value);
    }
    return true;
}

std::optional<std::string> CliArgs::option(const std::string& name) const {
    std::optional<std::string> found;
    for (const auto& [key, value] : m_options)
        if (key == name) found = value;
    return found;
}

std::vector<std::string> CliArgs::options(const std::string& name) const {
    std::vector<std::string> found;
    for (const auto& [key, value] : m_options)
        if (key == name) found.push_back(value);
    return found;
}

long long CliArgs::intOption(const std::string& name, long long fallback, long long min,
                             long long max) {
    auto text = option(name);
    if (!text) return fallback;
    const std::string range = " (from " + std::to_string(min) + " to " + std::to_string(max) + ")";
    // strtoll skips leading blanks and accepts '+'; a value is digits with an optional '-'.
    const bool shaped = !text->empty() &&
                        (std::isdigit(static_cast<unsigned char>((*text)[0])) || (*text)[0] == '-');
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text->c_str(), &end, 10);
    if (!shaped || *end != '\0' || end == text->c_str()) {
        setError("--" + name + " expects an integer" + range + ", got '" + *text + "'");
        return fallback;
    }
    if (errno == ERANGE || v < min || v > max) {
        setError("--" + name + " is out of range" + range + ": '" + *text + "'");
        return fallback;
    }
    return v;
}

double CliArgs::doubleOption(const std::string& name, double fallback, double min, double max) {
    auto text = option(name);
    if (!text) return fallback;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, " (from %g to %g)", min, max);
    const std::string range = buffer;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text->c_str(), &end);
    if (text->empty() || std::isspace(static_cast<unsigned char>((*text)[0])) || *end != '\0') {
        setError("--" + name + " expects a number" + range + ", got '" + *text + "'");
        return fallback;
    }
    if (!std::isfinite(v) || errno == ERANGE) {
        setError("--" + name + " must be a finite number" + range + ", got '" + *text + "'");
        return fallback;
    }
    if (v < min || v > max) {
        setError("--" + name + " is out of range" + range + ": '" + *text + "'");
        return fallback;
    }
    return v;
}

uint64_t CliArgs::seedOption(const std::string& name, uint64_t fallback) {
    return static_cast<uint64_t>(intOption(name, static_cast<long long>(fallback), 0, LLONG_MAX));
}

bool CliArgs::checkKnown(const std::set<std::string>& known) {
    for (const auto& [key, value] : m_options) {
        if (!known.count(key)) {
            m_error = "unknown option --" + key;
            return false;
        }
    }
    for (const auto& f : m_flags) {
        if (!known.count(f)) {
            m_error = "unknown option --" + f;
            return false;
        }
    }
    return true;
}

}  // namespace mono::cli
