#include "core/features/cofiring.h"

#include <algorithm>

namespace mono::features {

std::vector<CoFiringMeasure> rankCoFiring(const std::vector<RelatedFeature>& related,
                                          double density,
                                          const std::function<double(int64_t)>& densityOf) {
    std::vector<CoFiringMeasure> out;
    out.reserve(related.size());
    for (const RelatedFeature& r : related) {
        CoFiringMeasure m;
        m.id = r.id;
        m.share = r.value;
        m.count = r.count;
        const double dj = densityOf(r.id);
        if (dj > 0) m.lift = m.share / dj;
        if (density > 0 && dj > 0) {
            const double joint = m.share * density;
            const double uni = density + dj - joint;
            m.jaccard = uni > 0 ? std::clamp(joint / uni, 0.0, 1.0) : 0.0;
        }
        out.push_back(m);
    }
    std::sort(out.begin(), out.end(), [](const CoFiringMeasure& a, const CoFiringMeasure& b) {
        if (a.jaccard != b.jaccard) return a.jaccard > b.jaccard;
        if (a.share != b.share) return a.share > b.share;
        return a.id < b.id;
    });
    return out;
}

}  // namespace mono::features
