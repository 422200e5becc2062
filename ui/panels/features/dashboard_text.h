#pragma once
// The rich text of a feature dashboard's lists: logit effects (tokens made
// visible and elided so one long token cannot widen the column) and related
// features as links that read by label or top token, not only by id.

#include <QHash>
#include <QString>

#include <vector>

#include "core/features/cofiring.h"
#include "core/features/feature_store.h"

namespace mono::sae {
struct QualityRecord;
}

namespace mono::ui {

// Tokens longer than this are elided in the logit lists (the full text is in the store).
inline constexpr int kLogitTokenChars = 18;

// What a related-feature link shows besides its id.
struct FeatureCaption {
    QString label;     // the user's label, "" when none
    QString topToken;  // the strongest token of the top example, "" when unknown
    double density = 0;
};

// The strongest token of a top snippet (marked «token»), or "".
QString topTokenOf(const std::string& topSnippet);

// A two-column HTML table of tokens and values; `positive` picks the colour.
QString logitEffectsHtml(const std::vector<features::LogitEffect>& effects, bool positive);
// Decoder neighbours: "#12 label 0.83" links, one per line.
QString neighbourLinksHtml(const std::vector<features::RelatedFeature>& neighbours,
                           const QHash<qint64, FeatureCaption>& captions);
// Co-firing features ranked by Jaccard, each with its Jaccard and its raw share.
QString coFiringLinksHtml(const std::vector<features::CoFiringMeasure>& coFiring,
                          const QHash<qint64, FeatureCaption>& captions);

// A feature's per-feature quality metrics from the SAE's metrics.json: max
// decoder cosine, the letter it is a main feature of and the one it absorbs
// (SAEBench absorption). "" when `record` is null or knows nothing of `id`.
QString featureQualityText(const sae::QualityRecord* record, qint64 id);

}  // namespace mono::ui
