#pragma once
// A small real workspace for the GUI tests, built from ../shared the way the
// application builds one: stories260K writes a short corpus (sampled), its
// blocks.2 residual stream is captured, a tiny TopK SAE is trained for a few
// seconds and analysed. Nothing here reads /tmp data from other sessions.

#include <QString>

#include <filesystem>
#include <string>

#include "core/base/result.h"

namespace mono::test {

struct UiWorkspace {
    std::filesystem::path dir;  // the workspace folder
    std::string saeName;        // "topk-256"
    std::string hook;           // "blocks.2.hook_resid_post"
};

// Builds the workspace in `root`/ws. `train`: also train and analyse the SAE
// (false: capture only). Needs models/stories260K under sharedDir().
Result<UiWorkspace> buildUiWorkspace(const std::filesystem::path& root, bool train = true);

// What every GUI test starts with: QSettings in test mode under the
// organisation "MonoscopeTest" and `application`, cleared, so that no user's
// settings are read or changed.
void isolateSettings(const QString& application);

inline QString qpath(const std::filesystem::path& p) {
    return QString::fromStdString(p.string());
}

}  // namespace mono::test
