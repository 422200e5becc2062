#pragma once
// FeatureExporter: the Features view's exports, through core/features/export.h —
// one feature or the whole store as Neuronpedia-style JSON, the feature table
// as CSV. Each runs on a worker with a read-only connection of its own (a
// whole store can take seconds); finished() reports the outcome.

#include <QObject>
#include <QString>

namespace mono::ui {

class JobRunner;

class FeatureExporter : public QObject {
    Q_OBJECT
public:
    enum class Format { kFeatureJson, kStoreJson, kCsv };

    explicit FeatureExporter(QObject* parent = nullptr);

    // Writes `format` of the store at `storePath` to `outPath` (`id`: the
    // feature, for kFeatureJson). Returns at once; finished() follows.
    void start(Format format, const QString& storePath, const QString& outPath, qint64 id = -1);
    bool isBusy() const;

signals:
    // `message`: the file written, or why not.
    void finished(bool ok, const QString& message);

private:
    JobRunner* m_runner;
};

}  // namespace mono::ui
