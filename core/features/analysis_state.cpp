#include "core/features/analysis_state.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/features/analysis.h"

namespace mono::features {

uint64_t samplePriority(int64_t feature, int64_t row) {
    // splitmix64 of the pair: cheap, well mixed, the same on every machine.
    uint64_t z = static_cast<uint64_t>(feature) * 0x9E3779B97F4A7C15ull ^
                 (static_cast<uint64_t>(row) + 0x632BE59BD9B4E019ull);
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

namespace detail {

int coarseBinOf(double v, double scale, int g) {
    const double c = std::ceil(v * g / scale) - 1;
    return static_cast<int>(std::clamp(c, 0.0, static_cast<double>(g - 1)));
}

namespace {

// The smallest power of two ≥ v (v > 0).
double pow2AtLeast(double v) {
    int e = 0;
    const double m = std::frexp(v, &e);  // v = m·2^e, m in [0.5, 1)
    return m == 0.5 ? v : std::ldexp(1.0, e);
}

void rebuildReservoir(FeatureAcc& a, int g, int perBin) {
    std::sort(a.res.begin(), a.res.end(), [](const Sampled& x, const Sampled& y) {
        return x.cbin != y.cbin ? x.cbin < y.cbin : lowerPriority(x, y);
    });
    a.resCount.assign(g, 0);
    a.resWorst.assign(g, ~uint64_t(0));
    size_t out = 0;
    for (const Sampled& s : a.res) {
        if (a.resCount[s.cbin] >= perBin) continue;
        a.res[out++] = s;
        if (++a.resCount[s.cbin] == perBin) a.resWorst[s.cbin] = s.prio;
    }
    a.res.resize(out);
    a.resPending = 0;
}

// Candidates wait at the end of `res` and are merged in batches: taken one at
// a time, each cost a search of its bin (and inserts a move of the bins after
// it), hundreds of thousands of times per pass.
constexpr int32_t kPendingMerge = 64;

void mergePending(FeatureAcc& a, int perBin) {
    if (a.resPending == 0) return;
    const auto byBinThenPriority = [](const Sampled& x, const Sampled& y) {
        return x.cbin != y.cbin ? x.cbin < y.cbin : lowerPriority(x, y);
    };
    const auto pending = a.res.end() - a.resPending;
    std::sort(pending, a.res.end(), byBinThenPriority);
    thread_local std::vector<Sampled> merged, bin;
    merged.clear();
    auto kept = a.res.begin();
    auto next = pending;
    const int g = static_cast<int>(a.resCount.size());
    for (int c = 0; c < g; ++c) {
        bin.assign(kept, kept + a.resCount[c]);
        kept += a.resCount[c];
        for (; next != a.res.end() && next->cbin == c; ++next) bin.push_back(*next);
        // Sorted, as rebuildReservoir leaves a bin: a saved state does not depend
        // on when candidates were merged.
        std::sort(bin.begin(), bin.end(), lowerPriority);
        if (static_cast<int>(bin.size()) > perBin) bin.resize(static_cast<size_t>(perBin));
        a.resCount[c] = static_cast<int32_t>(bin.size());
        uint64_t worst = ~uint64_t(0);
        if (a.resCount[c] == perBin) {
            worst = 0;
            for (const Sampled& s : bin) worst = std::max(worst, s.prio);
        }
        a.resWorst[c] = worst;
        merged.insert(merged.end(), bin.begin(), bin.end());
    }
    a.res.assign(merged.begin(), merged.end());
    a.resPending = 0;
}

}  // namespace

void Accumulators::init(int64_t numFeatures, int k, int bins, int perBin, int64_t coRows) {
    topK = k;
    coarseBins = 2 * bins;
    resPerBin = 2 * perBin;
    coSampleRows = coRows;
    features.assign(static_cast<size_t>(numFeatures), FeatureAcc{});
    coSample.clear();
    rowFloor.clear();
}

namespace {

// First firing, or a value above the scale: set or double S (merging
// histogram bins and coarse reservoir bins, both exact) so that v ≤ S.
void rescale(FeatureAcc& a, double dv, int coarseBins, int resPerBin) {
    if (a.count == 0) {
        a.scale = pow2AtLeast(dv);
        a.hist.assign(kHistBins, 0);
        a.resCount.assign(coarseBins, 0);
        a.resWorst.assign(coarseBins, ~uint64_t(0));
        return;
    }
    int doublings = 0;
    while (dv > a.scale) {
        a.scale *= 2;
        ++doublings;
        for (int k = 0; k < kHistBins / 2; ++k) a.hist[k] = a.hist[2 * k] + a.hist[2 * k + 1];
        std::fill(a.hist.begin() + kHistBins / 2, a.hist.end(), 0);
    }
    for (Sampled& s : a.res) s.cbin >>= std::min(doublings, 30);
    rebuildReservoir(a, coarseBins, resPerBin);
}

// One firing v ≤ S of feature i. histMul = H/S and coarseMul = G/S: S is a
// power of two, so v·H/S and v·G/S equal the products (v·G is exact in double).
inline void addWithinScale(FeatureAcc& a, int64_t i, float v, int64_t row, double histMul,
                           double coarseMul, int topK, int coarseBins, int resPerBin) {
    const double dv = v;
    ++a.count;
    a.sum += dv;
    a.max = std::max(a.max, v);
    const int h = static_cast<int>(std::ceil(dv * histMul)) - 1;
    ++a.hist[std::clamp(h, 0, kHistBins - 1)];

    const TopItem item{v, row};
    if (static_cast<int>(a.top.size()) < topK) {
        a.top.push_back(item);
        std::push_heap(a.top.begin(), a.top.end(), better);
        a.topWorst = a.top.front();
    } else if (topK > 0 && better(item, a.topWorst)) {
        std::pop_heap(a.top.begin(), a.top.end(), better);
        a.top.back() = item;
        std::push_heap(a.top.begin(), a.top.end(), better);
        a.topWorst = a.top.front();
    }

    if (resPerBin <= 0) return;
    const int c = static_cast<int>(
        std::clamp(std::ceil(dv * coarseMul) - 1, 0.0, static_cast<double>(coarseBins - 1)));
    const uint64_t p = samplePriority(i, row);
    if (a.resCount[c] >= resPerBin && p > a.resWorst[c]) return;  // the common case
    a.res.push_back(Sampled{p, row, v, c});
    if (++a.resPending >= kPendingMerge) mergePending(a, resPerBin);
}

}  // namespace

void Accumulators::add(int64_t i, float v, int64_t row) {
    addRun(i, &v, &row, 1);
}

void Accumulators::addRun(int64_t i, const float* values, const int64_t* rows, int64_t n) {
    FeatureAcc& a = features[static_cast<size_t>(i)];
    int64_t j = 0;
    while (j < n) {
        if (a.count == 0 || static_cast<double>(values[j]) > a.scale)
            rescale(a, values[j], coarseBins, resPerBin);
        // The scale holds until a larger value arrives: hoist its multipliers.
        const double histMul = kHistBins / a.scale, coarseMul = coarseBins / a.scale;
        const double scale = a.scale;
        do {
            addWithinScale(a, firstFeature + i, values[j], rows[j], histMul, coarseMul, topK,
                           coarseBins, resPerBin);
            ++j;
        } while (j < n && static_cast<double>(values[j]) <= scale);
    }
}

namespace {
bool coHigher(const CoRow& a, const CoRow& b) {
    return a.prio < b.prio || (a.prio == b.prio && a.row < b.row);
}
}  // namespace

void Accumulators::settle() {
#pragma omp parallel for schedule(dynamic, 64)
    for (size_t i = 0; i < features.size(); ++i) mergePending(features[i], resPerBin);
}

bool Accumulators::wantsCoRow(uint64_t prio, int64_t row) const {
    if (coSampleRows <= 0) return false;
    if (static_cast<int64_t>(coSample.size()) < coSampleRows) return true;
    const CoRow& worst = coSample.front();
    return prio < worst.prio || (prio == worst.prio && row < worst.row);
}

void Accumulators::addCoRow(uint64_t prio, int64_t row, std::vector<int32_t> active) {
    if (static_cast<int64_t>(coSample.size()) >= coSampleRows) {
        std::pop_heap(coSample.begin(), coSample.end(), coHigher);
        coSample.pop_back();
    }
    coSample.push_back(CoRow{prio, row, std::move(active)});
    std::push_heap(coSample.begin(), coSample.end(), coHigher);
}

// ---- serialisation ----------------------------------------------------------

namespace {

constexpr char kMagic[16] = "MONO-FEAT-STATE";
constexpr uint32_t kStateVersion = 2;  // 2: rowFloor

uint64_t checksum(const char* p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 0x100000001b3ull;
    return h;
}

struct Out {
    std::string buf;
    template <class T>
    void put(const T& v) {
        buf.append(reinterpret_cast<const char*>(&v), sizeof(T));
    }
    template <class T>
    void putArray(const std::vector<T>& v) {
        put<uint64_t>(v.size());
        buf.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    }
};

struct In {
    const std::string& buf;
    size_t pos = 0;
    bool ok = true;
    template <class T>
    T get() {
        T v{};
        if (pos + sizeof(T) > buf.size()) {
            ok = false;
            return v;
        }
        std::memcpy(&v, buf.data() + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    template <class T>
    void getArray(std::vector<T>* v, uint64_t maxLen) {
        const auto n = get<uint64_t>();
        if (!ok || n > maxLen || pos + n * sizeof(T) > buf.size()) {
            ok = false;
            return;
        }
        v->resize(n);
        std::memcpy(v->data(), buf.data() + pos, n * sizeof(T));
        pos += n * sizeof(T);
    }
};

}  // namespace

std::string serializeState(const std::string& headerJson, int64_t rowsDone,
                           const Accumulators& acc) {
    Out o;
    o.buf.append(kMagic, sizeof kMagic);
    o.put<uint32_t>(kStateVersion);
    o.put<uint64_t>(headerJson.size());
    o.buf += headerJson;
    o.put<int64_t>(rowsDone);
    o.put<int32_t>(acc.topK);
    o.put<int32_t>(acc.coarseBins);
    o.put<int32_t>(acc.resPerBin);
    o.put<int64_t>(acc.coSampleRows);
    o.put<uint64_t>(acc.features.size());
    for (const FeatureAcc& a : acc.features) {
        o.put(a.count);
        o.put(a.sum);
        o.put(a.max);
        o.put(a.scale);
        // Histograms are mostly empty at the top end: keep up to the last nonzero bin.
        size_t used = a.hist.size();
        while (used > 0 && a.hist[used - 1] == 0) --used;
        o.putArray(std::vector<int64_t>(a.hist.begin(), a.hist.begin() + static_cast<long>(used)));
        o.putArray(a.top);
        o.putArray(a.res);
    }
    o.put<uint64_t>(acc.coSample.size());
    for (const CoRow& r : acc.coSample) {
        o.put(r.prio);
        o.put(r.row);
        o.putArray(r.features);
    }
    o.putArray(acc.rowFloor);
    o.put<uint64_t>(checksum(o.buf.data(), o.buf.size()));
    return std::move(o.buf);
}

Status deserializeState(const std::string& bytes, const std::string& path, std::string* headerJson,
                        int64_t* rowsDone, Accumulators* acc) {
    auto bad = [&](const std::string& why) {
        return Status::corruption(path + ": analysis state: " + why);
    };
    if (bytes.size() < sizeof kMagic + 12 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        return bad("not an analysis state file (bad magic)");
    uint64_t stored;
    std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
    if (stored != checksum(bytes.data(), bytes.size() - 8)) return bad("checksum mismatch");
    const std::string body = bytes.substr(0, bytes.size() - 8);
    In in{body};
    in.pos = sizeof kMagic;
    if (in.get<uint32_t>() != kStateVersion) return bad("unknown version");
    const auto hlen = in.get<uint64_t>();
    if (!in.ok || in.pos + hlen > body.size()) return bad("truncated header");
    *headerJson = body.substr(in.pos, hlen);
    in.pos += hlen;
    *rowsDone = in.get<int64_t>();
    acc->topK = in.get<int32_t>();
    acc->coarseBins = in.get<int32_t>();
    acc->resPerBin = in.get<int32_t>();
    acc->coSampleRows = in.get<int64_t>();
    const auto nf = in.get<uint64_t>();
    if (!in.ok || nf > (uint64_t(1) << 32) || acc->coarseBins < 0 || acc->coarseBins > 4096 ||
        acc->resPerBin < 0)
        return bad("bad counts");
    acc->features.assign(nf, FeatureAcc{});
    for (FeatureAcc& a : acc->features) {
        a.count = in.get<int64_t>();
        a.sum = in.get<double>();
        a.max = in.get<float>();
        a.scale = in.get<double>();
        in.getArray(&a.hist, kHistBins);
        in.getArray(&a.top, uint64_t(1) << 20);
        std::make_heap(a.top.begin(), a.top.end(), better);
        if (!a.top.empty()) a.topWorst = a.top.front();
        in.getArray(&a.res, uint64_t(1) << 24);
        if (!in.ok) return bad("truncated feature accumulators");
        if (a.count > 0) {
            a.hist.resize(kHistBins, 0);
            for (const Sampled& s : a.res)
                if (s.cbin < 0 || s.cbin >= acc->coarseBins) return bad("coarse bin out of range");
            rebuildReservoir(a, acc->coarseBins, acc->resPerBin);
        }
    }
    const auto nco = in.get<uint64_t>();
    if (!in.ok || nco > uint64_t(1) << 32) return bad("bad co-firing sample size");
    acc->coSample.resize(nco);
    for (CoRow& r : acc->coSample) {
        r.prio = in.get<uint64_t>();
        r.row = in.get<int64_t>();
        in.getArray(&r.features, uint64_t(1) << 32);
        if (!in.ok) return bad("truncated co-firing sample");
    }
    std::make_heap(acc->coSample.begin(), acc->coSample.end(), coHigher);
    in.getArray(&acc->rowFloor, uint64_t(1) << 40);
    if (!in.ok) return bad("truncated row floors");
    if (in.pos != body.size()) return bad("trailing bytes");
    return Status::success();
}

}  // namespace detail
}  // namespace mono::features
