#pragma once
// The dialogs that choose a model to open. One file dialog accepts a .gguf, a
// llama2.c .bin, or any file inside a Hugging Face folder (config.json,
// *.safetensors, tokenizer.json: the folder is opened); a second one picks a
// folder directly. For a .bin the tokenizer beside it is found automatically,
// and asked for when there is none.

#include <QString>

#include <optional>

class QWidget;

namespace mono::ui {

struct ModelSource {
    QString path;
    QString tokenizerPath;  // empty: the model's own vocabulary
};

// Maps a chosen file to what Model::load opens: a file inside a Hugging Face
// folder becomes the folder; anything else stays as it is.
QString modelPathForChosenFile(const QString& file);

// nullopt when the user cancels.
std::optional<ModelSource> askForModelFile(QWidget* parent, const QString& startDir = {});
std::optional<ModelSource> askForModelFolder(QWidget* parent, const QString& startDir = {});

}  // namespace mono::ui
