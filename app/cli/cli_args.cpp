#include "app/cli/cli_args.h"

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

long long CliArgs::intOption(const std::string& name, long long fallback) {
    auto text = option(name);
    if (!text) return fallback;
    char* end = nullptr;
    long long v = std::strtoll(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0') {
        m_error = "--" + name + " expects an integer, got '" + *text + "'";
        return fallback;
    }
    return v;
}

double CliArgs::doubleOption(const std::string& name, double fallback) {
    auto text = option(name);
    if (!text) return fallback;
    char* end = nullptr;
    double v = std::strtod(text->c_str(), &end);
    if (text->empty() || *end != '\0') {
        m_error = "--" + name + " expects a number, got '" + *text + "'";
        return fallback;
    }
    return v;
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
