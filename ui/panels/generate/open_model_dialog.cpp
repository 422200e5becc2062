#include "ui/panels/generate/open_model_dialog.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QObject>

#include "ui/session/model_session.h"

namespace mono::ui {

namespace {

std::optional<ModelSource> withTokenizer(QWidget* parent, const QString& path) {
    ModelSource source{path, {}};
    if (!ModelSession::needsTokenizerFile(path)) return source;
    source.tokenizerPath = ModelSession::findTokenizerBeside(path);
    if (!source.tokenizerPath.isEmpty()) return source;
    source.tokenizerPath = QFileDialog::getOpenFileName(
        parent, QObject::tr("Choose the tokenizer for %1").arg(ModelSession::displayNameOf(path)),
        QFileInfo(path).absolutePath(), QObject::tr("llama2.c tokenizer (*.bin);;All files (*)"));
    if (source.tokenizerPath.isEmpty()) return std::nullopt;
    return source;
}

}  // namespace

QString modelPathForChosenFile(const QString& file) {
    const QFileInfo info(file);
    const QString suffix = info.suffix().toLower();
    if (info.isFile() &&
        (suffix == QLatin1String("json") || suffix == QLatin1String("safetensors") ||
         info.fileName() == QLatin1String("merges.txt")))
        return info.absolutePath();
    return file;
}

std::optional<ModelSource> askForModelFile(QWidget* parent, const QString& startDir) {
    const QString file = QFileDialog::getOpenFileName(
        parent, QObject::tr("Open model"), startDir,
        QObject::tr("Models (*.gguf *.bin config.json *.safetensors);;"
                    "GGUF (*.gguf);;llama2.c checkpoint (*.bin);;"
                    "Hugging Face folder (config.json *.safetensors);;All files (*)"));
    if (file.isEmpty()) return std::nullopt;
    return withTokenizer(parent, modelPathForChosenFile(file));
}

std::optional<ModelSource> askForModelFolder(QWidget* parent, const QString& startDir) {
    const QString dir =
        QFileDialog::getExistingDirectory(parent, QObject::tr("Open model folder"), startDir);
    if (dir.isEmpty()) return std::nullopt;
    return ModelSource{dir, {}};
}

}  // namespace mono::ui
