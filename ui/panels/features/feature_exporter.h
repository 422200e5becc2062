#pragma once
// FeatureExporter: the Features view's exports, through core/features/export.h —
// one feature, the features in the list, or the whole store as
// Neuronpedia-style JSON; the list or the whole feature table as CSV. Each runs on a worker with a
// read-only connection of its own (a whole store can take seconds); finished() reports the outcome.

#include <QObject>
#include <QString>

#include "core/features/feature_store.h"

namespace mono::ui {

class JobRunner;

class FeatureExporter : public QObject {
    Q_OBJECT
public:
    // kList*: the features that pass a filter (the list's selection), in id order.
    enum class Format { kFeatureJson, kStoreJson, kCsv, kListJson, kListCsv };

    explicit FeatureExporter(QObject* parent = nullptr);

    // Writes `format` of the store at `storePath` to `outPath` (`id`: the
    // feature, for kFeatureJson). Returns at once; finished() follows.
    void start(Format format, const QString& storePath, const QString& outPath, qint64 id = -1,
               const features::FeatureFilter& filter = {});
    bool isBusy() const;

signals:
    // `message`: the file written, or why not.
    void finished(bool ok, const QString& message);

private:
    JobRunner* m_runner;
};

}  // namespace mono::ui
