// monoscope-cli: the headless front end. Dispatches to the registered subcommands.

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "app/cli/command.h"
#include "core/base/version.h"

namespace mono::cli {
namespace {

std::vector<Command>& registry() {
    static std::vector<Command> commands;
    return commands;
}

void printHelp() {
    std::printf("monoscope-cli %s — a microscope for the features inside language models\n\n",
                kVersion);
    std::printf("usage: monoscope-cli <command> [arguments]\n\ncommands:\n");
    auto commands = allCommands();
    std::sort(commands.begin(), commands.end(),
              [](const Command& a, const Command& b) { return a.name < b.name; });
    for (const auto& c : commands) std::printf("  %-12s %s\n", c.name.c_str(), c.summary.c_str());
    std::printf("\n`monoscope-cli help <command>` shows a command's usage.\n");
}

}  // namespace

const std::vector<Command>& allCommands() {
    return registry();
}

RegisterCommand::RegisterCommand(Command command) {
    registry().push_back(std::move(command));
}

int fail(const std::string& command, const std::string& message, int code) {
    std::fprintf(stderr, "monoscope-cli %s: %s\n", command.c_str(), message.c_str());
    return code;
}

}  // namespace mono::cli

namespace {

int dispatch(int argc, char** argv) {
    using namespace mono::cli;
    if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") ||
        !std::strcmp(argv[1], "-h")) {
        if (argc >= 3) {
            for (const auto& c : allCommands())
                if (c.name == argv[2]) {
                    std::printf("%s\n", c.usage.c_str());
                    return 0;
                }
        }
        printHelp();
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("monoscope-cli %s\n", mono::kVersion);
        return 0;
    }
    for (const auto& c : allCommands()) {
        if (c.name != argv[1]) continue;
        for (int i = 2; i < argc; ++i)
            if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
                std::printf("%s\n", c.usage.c_str());
                return 0;
            }
        CliArgs args;
        std::set<std::string> known = c.options;
        known.insert(c.flags.begin(), c.flags.end());
        if (!args.parse(argc, argv, 2, c.flags) || !args.checkKnown(known))
            return fail(c.name, args.error() + "\n\n" + c.usage, 2);
        return c.run(args);
    }
    std::fprintf(stderr, "monoscope-cli: unknown command '%s' (try `monoscope-cli help`)\n",
                 argv[1]);
    return 2;
}

}  // namespace

// The last line of defence: anything a command or core lets escape
// (std::bad_alloc, std::filesystem::filesystem_error, a JSON type error, ...)
// becomes an error message and exit code 1, never an abort. Errors are values
// everywhere else; this only catches what slipped through.
int main(int argc, char** argv) {
    const std::string command = argc >= 2 ? argv[1] : "";
    try {
        return dispatch(argc, argv);
    } catch (const std::bad_alloc&) {
        return mono::cli::fail(command,
                               "error: out of memory (an allocation failed); try smaller sizes "
                               "or a machine with more memory");
    } catch (const std::exception& e) {
        return mono::cli::fail(command, std::string("error: ") + e.what());
    } catch (...) {
        return mono::cli::fail(command, "error: an unknown exception ended the command");
    }
}
