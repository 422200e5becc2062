#include "ui/session/model_session.h"

#include <QDir>
#include <QFileInfo>

#include <string>

#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/tokenizer/tokenizer.h"
#include "ui/jobs/job_runner.h"

namespace mono::ui {

namespace {

// What the load job hands back; plain C++ so the worker builds no Qt objects.
struct LoadOutput {
    std::shared_ptr<model::Model> model;
    std::shared_ptr<const tok::Tokenizer> tokenizer;
};

Result<LoadOutput> loadModelAndTokenizer(const std::string& path, const std::string& tokPath,
                                         model::WeightStorage storage, const Progress& progress,
                                         const StopToken& stop) {
    progress.report(-1.0, "reading the model " + path);
    MONO_ASSIGN_OR_RETURN(std::shared_ptr<model::Model> loaded,
                          model::Model::load(path, model::LoadOptions{storage}));
    // Model::load cannot be interrupted; stop before reading the tokenizer at least.
    if (stop.stopRequested()) return Status::cancelled("loading " + path + " was cancelled");
    progress.report(-1.0, "reading the tokenizer " + tokPath);
    auto tokenizer = tok::loadTokenizer(tokPath);
    if (!tokenizer.ok()) return tokenizer.status();
    const int tokVocab = (*tokenizer)->vocabSize();
    const int modelVocab = loaded->config().vocabSize;
    if (tokVocab > modelVocab)
        return Status::invalidArgument(tokPath + ": the tokenizer has " + std::to_string(tokVocab) +
                                       " tokens but the model " + path + " only " +
                                       std::to_string(modelVocab));
    return LoadOutput{std::move(loaded), std::move(tokenizer).value()};
}

}  // namespace

ModelSession::ModelSession(QObject* parent)
    : QObject(parent), m_runner(new JobRunner(this)), m_storage(model::WeightStorage::kF32) {
    connect(m_runner, &JobRunner::busyChanged, this, &ModelSession::busyChanged);
    connect(m_runner, &JobRunner::failed, this,
            [this](quint64, const QString&, const QString& message) {
                const QString path = m_loadingPath;
                m_loadingPath.clear();
                emit loadFailed(path, message);
            });
    connect(m_runner, &JobRunner::cancelled, this, [this](quint64) { m_loadingPath.clear(); });
}

ModelSession::~ModelSession() = default;

void ModelSession::setWeightStorage(model::WeightStorage storage) {
    m_storage = storage;
}

bool ModelSession::isLoading() const {
    return m_runner->isBusy();
}

bool ModelSession::needsTokenizerFile(const QString& modelPath) {
    const QFileInfo info(modelPath);
    return info.isFile() && info.suffix().compare(QStringLiteral("bin"), Qt::CaseInsensitive) == 0;
}

QString ModelSession::findTokenizerBeside(const QString& modelPath) {
    return QFile::decodeName(
        model::findTokenizerBeside(QFile::encodeName(modelPath).toStdString()).c_str());
}

QString ModelSession::displayNameOf(const QString& path) {
    const QFileInfo info(path);
    return info.fileName().isEmpty() ? QDir(path).dirName() : info.fileName();
}

QString ModelSession::displayName() const {
    return hasModel() ? displayNameOf(m_current.path) : QString();
}

void ModelSession::open(const QString& path, const QString& tokenizerPath) {
    QString tokPath = tokenizerPath;
    if (tokPath.isEmpty()) {
        if (needsTokenizerFile(path)) {
            tokPath = findTokenizerBeside(path);
            if (tokPath.isEmpty()) {
                m_runner->abandon();  // the latest request wins, even one that fails at once
                m_loadingPath.clear();
                emit loadStarted(path);
                emit loadFailed(path, tr("%1: a llama2.c checkpoint needs its tokenizer, and no "
                                         "tokenizer.bin or tok*.bin was found beside it. Choose "
                                         "one (monoscope MODEL --tokenizer FILE).")
                                          .arg(path));
                return;
            }
        } else {
            tokPath = path;  // a folder or a .gguf carries its own vocabulary
        }
    }
    m_loadingPath = path;
    const std::string modelPath = QFile::encodeName(path).toStdString();
    const std::string tokFile = QFile::encodeName(tokPath).toStdString();
    m_runner->start(
        tr("Loading %1").arg(displayNameOf(path)),
        [modelPath, tokFile, storage = m_storage](const JobContext& job) {
            return loadModelAndTokenizer(modelPath, tokFile, storage, job.progress(), job.stop());
        },
        [this, path, tokPath](LoadOutput out) {
            m_loadingPath.clear();
            if (m_acceptor) {
                const Status accepted = m_acceptor(*out.model);
                if (!accepted.ok()) {
                    emit loadFailed(path, tr("%1 was not opened: %2")
                                              .arg(displayNameOf(path),
                                                   QString::fromStdString(accepted.message())));
                    return;
                }
            }
            setModel(LoadedModel{std::move(out.model), std::move(out.tokenizer), path, tokPath});
        });
    emit loadStarted(path);  // after start(): isLoading() is true for the receivers
}

void ModelSession::setModel(LoadedModel loaded) {
    m_current = std::move(loaded);
    emit modelChanged();
}

}  // namespace mono::ui
