#pragma once
// ModelSession: the model the application works on — one transformer with its
// tokenizer — and the job that loads it. MainWindow owns one; panels read it
// and follow its signals. Loading runs on a worker thread; the latest open()
// wins, and a failed load leaves the previous model in place.

#include <QObject>
#include <QString>

#include <functional>
#include <memory>

#include "core/base/result.h"

namespace mono::model {
class Model;
enum class WeightStorage;
}  // namespace mono::model
namespace mono::tok {
class Tokenizer;
}

namespace mono::ui {

class JobRunner;

// A loaded model and where it came from. The pointers are shared with running
// jobs, which keep the model alive until they end.
struct LoadedModel {
    std::shared_ptr<model::Model> model;
    std::shared_ptr<const tok::Tokenizer> tokenizer;
    QString path;           // as opened: a Hugging Face folder, a .gguf or a llama2.c .bin
    QString tokenizerPath;  // the folder / .gguf itself, or the llama2.c tokenizer .bin
};

class ModelSession : public QObject {
    Q_OBJECT
public:
    explicit ModelSession(QObject* parent = nullptr);
    ~ModelSession() override;

    // Starts loading `path` (a Hugging Face folder, a .gguf or a llama2.c .bin).
    // An empty `tokenizerPath` means: the folder or .gguf itself, or for a .bin
    // the tokenizer found beside it (findTokenizerBeside). Emits loadStarted, then
    // modelChanged or loadFailed.
    void open(const QString& path, const QString& tokenizerPath = {});

    // How open() holds the next model's weights: float32 (the default) or
    // bf16-resident, half the memory (SmoothQuant folding and logit effects
    // then refuse, as they need float32 weights).
    void setWeightStorage(model::WeightStorage storage);
    model::WeightStorage weightStorage() const { return m_storage; }

    // Installs a model that is already in memory (tests, the embedded toy model).
    void setModel(LoadedModel loaded);

    // A check every model loaded by open() must pass before it replaces the
    // current one (e.g. that it can run the open SAE). A refused model ends as
    // loadFailed with the check's message; the current model stays.
    using Acceptor = std::function<Status(const model::Model&)>;
    void setAcceptor(Acceptor acceptor) { m_acceptor = std::move(acceptor); }

    bool hasModel() const { return m_current.model != nullptr; }
    const LoadedModel& current() const { return m_current; }
    bool isLoading() const;
    QString loadingPath() const { return m_loadingPath; }
    // "stories260K.bin", or the folder's name.
    QString displayName() const;

    // A llama2.c checkpoint carries no vocabulary: true for *.bin files.
    static bool needsTokenizerFile(const QString& modelPath);
    // tokenizer.bin, else the first tok*.bin (by name) in the model's folder,
    // never the model file itself; empty when there is none.
    static QString findTokenizerBeside(const QString& modelPath);
    static QString displayNameOf(const QString& path);

signals:
    void loadStarted(const QString& path);
    void modelChanged();
    void loadFailed(const QString& path, const QString& message);
    void busyChanged(bool loading);

private:
    JobRunner* m_runner;
    LoadedModel m_current;
    Acceptor m_acceptor;
    QString m_loadingPath;
    model::WeightStorage m_storage;
};

}  // namespace mono::ui
