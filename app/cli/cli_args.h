#pragma once
// Command-line arguments of one subcommand: positionals, options with values
// (--out FILE, --out=FILE, -n 5; repeatable) and value-less flags declared by
// the command (--bos). Unknown options are an error, never silently ignored.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mono::cli {

// Upper bounds shared by the numeric options: a token count (10^12, beyond any
// corpus we could read) and a context length.
inline constexpr long long kMaxTokens = 1'000'000'000'000LL;
inline constexpr long long kMaxContext = 1 << 20;

class CliArgs {
public:
    // Parses argv[first..argc). `flags` are the option names that take no value.
    // Returns false and sets error() when an option lacks its value.
    bool parse(int argc, char** argv, int first, const std::set<std::string>& flags);

    const std::vector<std::string>& positionals() const { return m_positionals; }
    std::optional<std::string> option(const std::string& name) const;  // last given
    std::vector<std::string> options(const std::string& name) const;   // all given
    bool flag(const std::string& name) const { return m_flags.count(name) > 0; }

    // Typed option readers. The whole value must parse and lie in [min, max]; an
    // integer that overflows, a double that is nan or inf, trailing text or a
    // value out of range sets error() (naming the option, the range and the
    // value) and returns the fallback. Every numeric option states its range, so
    // a 0 or a negative number never reaches a division, an allocation or a loop.
    long long intOption(const std::string& name, long long fallback, long long min, long long max);
    double doubleOption(const std::string& name, double fallback, double min, double max);
    // A seed: any integer in [0, 2^63).
    uint64_t seedOption(const std::string& name, uint64_t fallback);

    // Names given that are not in `known` (options and flags), as an error message.
    bool checkKnown(const std::set<std::string>& known);

    const std::string& error() const { return m_error; }
    bool hasError() const { return !m_error.empty(); }

private:
    // Keeps the first error: later options are often parsed from defaults of earlier ones.
    void setError(std::string message) {
        if (m_error.empty()) m_error = std::move(message);
    }

    std::vector<std::string> m_positionals;
    std::vector<std::pair<std::string, std::string>> m_options;
    std::set<std::string> m_flags;
    std::string m_error;
};

}  // namespace mono::cli
