#pragma once
// FeatureStoreHandle: the feature store the explorer reads, shared by the
// browser's table model, the dashboard and the prompt inspector. It holds one
// read-only connection for queries and opens a read-write one only when the
// user annotates a feature, so browsing never takes a write lock.
// GUI thread only (a FeatureStore is one SQLite connection); queries on it are
// index lookups of a few milliseconds (docs/BENCHMARKS.md).

#include <QObject>
#include <QString>

#include <memory>
#include <optional>

#include "core/base/result.h"
#include "core/features/feature_store.h"

namespace mono::ui {

class FeatureStoreHandle : public QObject {
    Q_OBJECT
public:
    explicit FeatureStoreHandle(QObject* parent = nullptr);
    ~FeatureStoreHandle() override;

    // Opens `path` read-only, replacing the current store. On failure the
    // handle is left empty and the Status names the file.
    Status open(const QString& path);
    void close();

    bool isOpen() const { return m_store != nullptr; }
    QString path() const { return m_path; }
    // The read-only store; null when none is open.
    const features::FeatureStore* store() const { return m_store.get(); }
    // Feature count, 0 when none is open.
    int64_t featureCount() const { return m_count; }

    // Saves an annotation through a read-write connection and emits annotationChanged.
    Status setLabel(int64_t id, const QString& label);
    Status setNotes(int64_t id, const QString& notes);

signals:
    void storeChanged();
    void annotationChanged(qint64 id);

private:
    Result<features::FeatureStore*> writer();

    QString m_path;
    std::unique_ptr<features::FeatureStore> m_store;
    std::unique_ptr<features::FeatureStore> m_writer;
    int64_t m_count = 0;
};

}  // namespace mono::ui
