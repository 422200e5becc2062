#pragma once
// The check every command makes on its outputs before it does the work that
// fills them: an output that is one of the inputs (same inode), a folder where a
// file is written, a block device, or a path that cannot be written is refused
// now, with the output named, rather than after an hour of training or by
// destroying the input. (How outputs are then written — atomically, through
// symlinks, into FIFOs and devices — is AtomicFileWriter's, core/base.)

#include <initializer_list>
#include <string>
#include <vector>

#include "app/cli/cli_args.h"
#include "core/base/status.h"

namespace mono::cli {

// An SAE's own files (or `path` itself when it is a file): what a command reads
// of it. Not the whole folder, because outputs may live beside them
// (eval.json), and a rerun must not take its previous output for an input.
std::vector<std::string> saeInputFiles(const std::string& path);

// The positionals and every value of the named options (an --sae expanded by
// saeInputFiles): what a command reads.
std::vector<std::string> inputPaths(const CliArgs& args,
                                    std::initializer_list<const char*> inputOptions);

// For each output file: checkOutputTarget against all `inputs` (files or
// folders, compared by inode). The first problem found, naming the output.
Status checkOutputFiles(const std::vector<std::string>& outputs,
                        const std::vector<std::string>& inputs);

// For an output folder (an SAE, a workspace, a trained model): InvalidArgument
// when it is one of `inputs` (or a file), IoError when it cannot be created or
// written.
Status checkOutputFolder(const std::string& folder, const std::vector<std::string>& inputs);

}  // namespace mono::cli
