#include "ui/session/feature_store_handle.h"

namespace mono::ui {

using features::FeatureStore;

FeatureStoreHandle::FeatureStoreHandle(QObject* parent) : QObject(parent) {}
FeatureStoreHandle::~FeatureStoreHandle() = default;

Status FeatureStoreHandle::open(const QString& path) {
    m_store.reset();
    m_writer.reset();
    m_count = 0;
    m_path.clear();
    auto opened = FeatureStore::open(path.toStdString(), FeatureStore::Mode::kReadOnly);
    if (!opened.ok()) {
        emit storeChanged();
        return opened.status();
    }
    auto count = opened->featureCount();
    if (!count.ok()) {
        emit storeChanged();
        return count.status();
    }
    m_store = std::make_unique<FeatureStore>(std::move(opened).value());
    m_count = *count;
    m_path = path;
    emit storeChanged();
    return Status::success();
}

void FeatureStoreHandle::close() {
    if (!m_store && m_path.isEmpty()) return;
    m_store.reset();
    m_writer.reset();
    m_count = 0;
    m_path.clear();
    emit storeChanged();
}

Result<FeatureStore*> FeatureStoreHandle::writer() {
    if (!m_store) return Status::invalidArgument("no feature store is open");
    if (!m_writer) {
        auto opened = FeatureStore::open(m_path.toStdString(), FeatureStore::Mode::kReadWrite);
        if (!opened.ok()) return opened.status();
        m_writer = std::make_unique<FeatureStore>(std::move(opened).value());
    }
    return m_writer.get();
}

Status FeatureStoreHandle::setLabel(int64_t id, const QString& label) {
    MONO_ASSIGN_OR_RETURN(FeatureStore * store, writer());
    Status st = store->setLabel(id, label.trimmed().toStdString());
    if (st.ok()) emit annotationChanged(id);
    return st;
}

Status FeatureStoreHandle::setNotes(int64_t id, const QString& notes) {
    MONO_ASSIGN_OR_RETURN(FeatureStore * store, writer());
    Status st = store->setNotes(id, notes.toStdString());
    if (st.ok()) emit annotationChanged(id);
    return st;
}

}  // namespace mono::ui
