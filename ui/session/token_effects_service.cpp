#include "ui/session/token_effects_service.h"

#include <limits>

#include "core/steer/token_effects.h"
#include "ui/jobs/job_runner.h"
#include "ui/session/model_session.h"
#include "ui/session/workspace_session.h"

namespace mono::ui {
namespace {

constexpr size_t kCacheEntries = 512;

}  // namespace

TokenEffectsService::TokenEffectsService(WorkspaceSession* session, QObject* parent)
    : QObject(parent), m_session(session), m_runner(new JobRunner(this)) {
    auto forget = [this] { m_cache.clear(); };
    connect(m_session, &WorkspaceSession::saeLoaded, this, forget);
    connect(m_session, &WorkspaceSession::workspaceChanged, this, forget);
    connect(m_session->models(), &ModelSession::modelChanged, this, forget);
    connect(m_runner, &JobRunner::failed, this,
            [this](quint64, const QString&, const QString& message) { emit failed(message); });
}

bool TokenEffectsService::isAvailable() const {
    return m_session->models()->hasModel() && m_session->sae() &&
           !m_session->currentHook().isEmpty();
}

QVector<float> TokenEffectsService::cached(const std::vector<int32_t>& tokens,
                                           qint64 feature) const {
    const auto it = m_cache.find({feature, tokens});
    return it == m_cache.end() ? QVector<float>() : it->second;
}

bool TokenEffectsService::request(const std::vector<int32_t>& tokens, qint64 feature) {
    if (!isAvailable() || tokens.size() < 2 || feature < 0) return false;
    if (auto hit = cached(tokens, feature); !hit.isEmpty()) {
        emit computed(tokens, feature, hit);
        return true;
    }
    const auto model = m_session->models()->current().model;
    const auto sae = m_session->sae();
    const std::string hook = m_session->currentHook().toStdString();
    const int64_t context = model->config().maxSeqLen;
    m_runner->start(
        tr("Token effects of feature %1").arg(feature),
        [model, sae, hook, tokens, feature, context](const JobContext&) -> Result<QVector<float>> {
            std::vector<int32_t> cut = tokens;  // a store's window never exceeds the context
            if (static_cast<int64_t>(cut.size()) > context)
                cut.resize(static_cast<size_t>(context));
            MONO_ASSIGN_OR_RETURN(steer::TokenEffects e,
                                  steer::featureTokenEffects(*model, sae, hook, cut, feature));
            QVector<float> deltas(static_cast<qsizetype>(tokens.size()),
                                  std::numeric_limits<float>::quiet_NaN());
            for (const steer::TokenEffect& t : e.effects)
                deltas[static_cast<qsizetype>(t.position)] = static_cast<float>(t.delta);
            return deltas;
        },
        [this, tokens, feature](QVector<float> deltas) {
            if (m_cache.size() >= kCacheEntries) m_cache.clear();
            m_cache[{feature, tokens}] = deltas;
            emit computed(tokens, feature, deltas);
        });
    return true;
}

}  // namespace mono::ui
