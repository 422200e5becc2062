#include "tests/ui/ui_workspace_fixture.h"

#include <QCoreApplication>
#include <QSettings>
#include <QStandardPaths>

#include "core/model/corpus_sampler.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/workspace/workspace.h"
#include "tests/support/test_support.h"
#include "ui/jobs/workspace_jobs.h"

namespace mono::test {

namespace fs = std::filesystem;

void isolateSettings(const QString& application) {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("MonoscopeTest"));
    QCoreApplication::setApplicationName(application);
    QSettings().clear();
}

Result<UiWorkspace> buildUiWorkspace(const fs::path& root, bool train) {
    const fs::path models = sharedDir() / "models" / "stories260K";
    const std::string modelPath = (models / "stories260K.bin").string();
    const std::string tokPath = (models / "tok512.bin").string();
    MONO_ASSIGN_OR_RETURN(auto model, model::Model::load(modelPath));
    MONO_ASSIGN_OR_RETURN(auto tokenizer, model::loadModelTokenizer(modelPath, tokPath));

    model::CorpusSampleSpec sample;
    sample.tokens = 6000;
    sample.maxLength = 200;
    sample.sampling.temperature = 1.0f;
    sample.sampling.seed = 7;
    sample.outPath = (root / "corpus.txt").string();
    MONO_ASSIGN_OR_RETURN(auto sampled, model::sampleCorpus(*model, *tokenizer, sample));
    (void)sampled;

    UiWorkspace out;
    out.dir = root / "ws";
    out.saeName = "topk-256";
    out.hook = "blocks.2.hook_resid_post";
    ws::Manifest manifest;
    manifest.modelPath = modelPath;
    manifest.tokenizerPath = tokPath;
    manifest.corpus = {sample.outPath};
    manifest.hooks = {out.hook};
    manifest.contextSize = 64;
    MONO_ASSIGN_OR_RETURN(auto workspace, ws::Workspace::create(out.dir.string(), manifest));
    (void)workspace;

    ui::CaptureJobSpec capture;
    capture.workspaceDir = out.dir.string();
    capture.tokens = 5000;
    MONO_ASSIGN_OR_RETURN(auto captured, ui::runCaptureJob(capture, {}, {}));
    (void)captured;
    if (!train) return out;

    ui::TrainJobSpec spec;
    spec.workspaceDir = out.dir.string();
    spec.saeName = out.saeName;
    spec.features = 256;
    spec.k = 8;
    spec.tokens = 50'000;  // a few seconds: the tests need real features, not good ones
    spec.batchSize = 256;
    MONO_ASSIGN_OR_RETURN(auto trained, ui::runTrainJob(spec, {}, {}));
    (void)trained;

    ui::AnalyseJobSpec analyse;
    analyse.workspaceDir = out.dir.string();
    analyse.saeName = out.saeName;
    MONO_ASSIGN_OR_RETURN(auto analysed, ui::runAnalyseJob(analyse, {}, {}));
    (void)analysed;
    return out;
}

}  // namespace mono::test
