#pragma once
// Command-line arguments of one subcommand: positionals, options with values
// (--out FILE, --out=FILE, -n 5; repeatable) and value-less flags declared by
// the command (--bos). Unknown options are an error, never silently ignored.

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mono::cli {

class CliArgs {
public:
    // Parses argv[first..argc). `flags` are the option names that take no value.
    // Returns false and sets error() when an option lacks its value.
    bool parse(int argc, char** argv, int first, const std::set<std::string>& flags);

    const std::vector<std::string>& positionals() const { return m_positionals; }
    std::optional<std::string> option(const std::string& name) const;     // last given
    std::vector<std::string> options(const std::string& name) const;      // all given
    bool flag(const std::string& name) const { return m_flags.count(name) > 0; }

    // Typed option readers: on a malformed value they set error() and return the fallback.
    long long intOption(const std::string& name, long long fallback);
    double doubleOption(const std::string& name, double fallback);

    // Names given that are not in `known` (options and flags), as an error message.
    bool checkKnown(const std::set<std::string>& known);

    const std::string& error() const { return m_error; }
    bool hasError() const { return !m_error.empty(); }

private:
    std::vector<std::string> m_positionals;
    std::vector<std::pair<std::string, std::string>> m_options;
    std::set<std::string> m_flags;
    std::string m_error;
};

}  // namespace mono::cli
