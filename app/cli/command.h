#pragma once
// A monoscope-cli subcommand. Each lives in its own cmd_<name>.cpp and registers
// itself with a static RegisterCommand, so adding one touches no other file.
// Commands only parse arguments, call core and print: no logic of their own.

#include <set>
#include <string>
#include <vector>

#include "app/cli/cli_args.h"

namespace mono::cli {

struct Command {
    std::string name;
    std::string summary;                  // one line for `monoscope-cli help`
    std::string usage;                    // full usage text
    std::set<std::string> flags;          // options that take no value
    std::set<std::string> options;        // options that take a value
    int (*run)(CliArgs& args) = nullptr;  // exit code: 0 ok, 1 failure, 2 usage error
};

const std::vector<Command>& allCommands();

struct RegisterCommand {
    explicit RegisterCommand(Command command);
};

// Prints "monoscope-cli <name>: <message>" to stderr and returns 1 (2 for usage).
int fail(const std::string& command, const std::string& message, int code = 1);

}  // namespace mono::cli
