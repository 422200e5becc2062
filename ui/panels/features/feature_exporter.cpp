#include "ui/panels/features/feature_exporter.h"

#include "core/features/export.h"
#include "core/features/feature_store.h"
#include "ui/jobs/job_runner.h"

namespace mono::ui {

FeatureExporter::FeatureExporter(QObject* parent) : QObject(parent), m_runner(new JobRunner(this)) {
    connect(
        m_runner, &JobRunner::failed, this,
        [this](quint64, const QString&, const QString& message) { emit finished(false, message); });
}

bool FeatureExporter::isBusy() const {
    return m_runner->isBusy();
}

void FeatureExporter::start(Format format, const QString& storePath, const QString& outPath,
                            qint64 id, const features::FeatureFilter& filter) {
    const std::string store = storePath.toStdString(), out = outPath.toStdString();
    m_runner->start(
        tr("Export"),
        [format, store, out, id, filter](const JobContext&) -> Result<bool> {
            MONO_ASSIGN_OR_RETURN(
                features::FeatureStore s,
                features::FeatureStore::open(store, features::FeatureStore::Mode::kReadOnly));
            switch (format) {
                case Format::kFeatureJson:
                    MONO_RETURN_IF_ERROR(features::exportJson(s, out, id));
                    break;
                case Format::kStoreJson:
                    MONO_RETURN_IF_ERROR(features::exportJson(s, out, -1));
                    break;
                case Format::kCsv:
                    MONO_RETURN_IF_ERROR(features::exportCsv(s, out));
                    break;
                case Format::kListJson:
                    MONO_RETURN_IF_ERROR(features::exportJson(s, out, filter));
                    break;
                case Format::kListCsv:
                    MONO_RETURN_IF_ERROR(features::exportCsv(s, out, filter));
                    break;
            }
            return true;
        },
        [this, outPath](bool) { emit finished(true, tr("Wrote %1").arg(outPath)); });
}

}  // namespace mono::ui
