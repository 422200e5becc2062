#pragma once
// A Monoscope workspace: one folder that holds everything about one model.
//
//   <workspace>/
//     monoscope.json          manifest: model, tokenizer, corpus, hook points, versions
//     activations/<hook>/     activation store (see core/acts/activation_store.h)
//     saes/<name>/            SAELens-layout SAEs, training logs, checkpoints
//     saes/<name>/eval.json   the SAE's held-out evaluation (`eval-sae --json`)
//     features/<sae>.sqlite   feature stores
//     quant/                  calibration statistics and reports
//     jobs.jsonl              the GUI's job history: one JSON object per finished job
//
// This file is the only place that knows these names: everything else asks it
// for a path. The manifest is replaced atomically; nothing else in the folder
// is touched by opening it.

#include <string>
#include <vector>

#include "core/base/result.h"

namespace mono::ws {

struct Manifest {
    std::string modelPath;      // HF folder, .gguf or llama2.c .bin
    std::string tokenizerPath;  // empty: the one beside the model
    std::vector<std::string> corpus;
    std::vector<std::string> hooks;
    int contextSize = 128;
    std::string created;           // ISO-8601 UTC
    std::string monoscopeVersion;  // of the last writer
};

class Workspace {
public:
    // Opens an existing workspace. NotFound when `dir` is missing; InvalidArgument
    // "not a Monoscope workspace" when it has no monoscope.json; Corruption when
    // the manifest does not parse.
    static Result<Workspace> open(const std::string& dir);
    // Creates the folder (and parents) and writes the manifest. InvalidArgument
    // when `dir` exists and is a non-empty folder that is not a workspace, so a
    // user's folder is never taken over by mistake.
    static Result<Workspace> create(const std::string& dir, Manifest manifest);
    // open() when `dir` is a workspace, else create().
    static Result<Workspace> openOrCreate(const std::string& dir, Manifest manifest);

    const std::string& dir() const { return m_dir; }
    const Manifest& manifest() const { return m_manifest; }
    Status setManifest(Manifest manifest);  // saved at once

    // Folder names are the hook names, which are plain ASCII ("blocks.2.hook_resid_post").
    std::string activationsDir(const std::string& hook) const;
    std::string saesDir() const;
    std::string saeDir(const std::string& name) const;
    std::string saeEvalPath(const std::string& name) const;
    std::string featureStorePath(const std::string& saeName) const;
    std::string quantDir() const;
    std::string calibrationPath() const;
    std::string jobHistoryPath() const;
    // SAE folders present (names under saes/), sorted.
    std::vector<std::string> saeNames() const;

private:
    Workspace(std::string dir, Manifest manifest)
        : m_dir(std::move(dir)), m_manifest(std::move(manifest)) {}
    Status save() const;

    std::string m_dir;
    Manifest m_manifest;
};

// The manifest file name, "monoscope.json".
inline constexpr const char* kManifestFile = "monoscope.json";

// Whether `dir` is a workspace, i.e. a folder with a manifest (not read here).
bool isWorkspace(const std::string& dir);

// The name an SAE folder goes by, its last path component ("ws/saes/res6/" → "res6"):
// the name of its feature store.
std::string saeNameOf(const std::string& saeDir);

// For an SAE folder given by path rather than by name: when `saeDir` is
// <workspace>/saes/<name>, that workspace's feature store for it (existing or
// not); otherwise empty.
std::string featureStoreBesideSae(const std::string& saeDir);

}  // namespace mono::ws
