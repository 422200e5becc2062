#pragma once
// TokenEffectsService: the change of each token's log-probability when a
// feature is ablated in one example (core/steer/token_effects.h), computed on a
// worker thread for the dashboard's examples and the prompt inspector, with
// the session's model and SAE. Requests are lazy (on hover); the latest one
// wins, and results are cached per (feature, tokens) until the model or the
// SAE changes.

#include <QObject>
#include <QVector>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace mono::ui {

class JobRunner;
class WorkspaceSession;

class TokenEffectsService : public QObject {
    Q_OBJECT
public:
    // `session` must outlive the service.
    explicit TokenEffectsService(WorkspaceSession* session, QObject* parent = nullptr);

    // A model and an SAE (with its hook) are loaded.
    bool isAvailable() const;
    // Computes (or answers from the cache) the effects of ablating `feature` in
    // `tokens`; emits computed() with the same tokens. False when unavailable.
    bool request(const std::vector<int32_t>& tokens, qint64 feature);
    // The cached effects, or empty.
    QVector<float> cached(const std::vector<int32_t>& tokens, qint64 feature) const;

signals:
    // One Δ log p per token (NaN before the first ablated position).
    void computed(const std::vector<int32_t>& tokens, qint64 feature, const QVector<float>& deltas);
    void failed(const QString& message);

private:
    using Key = std::pair<qint64, std::vector<int32_t>>;
    WorkspaceSession* m_session;
    JobRunner* m_runner;
    std::map<Key, QVector<float>> m_cache;
};

}  // namespace mono::ui
