#include "core/quant/error_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mono::quant {

void ErrorAccumulator::add(const float* y, const float* yq, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const double a = y[i], b = yq[i];
        m_dd += (b - a) * (b - a);
        m_yy += a * a;
        m_qq += b * b;
        m_yq += a * b;
    }
}

void ErrorAccumulator::add(const ErrorAccumulator& o) {
    m_dd += o.m_dd;
    m_yy += o.m_yy;
    m_qq += o.m_qq;
    m_yq += o.m_yq;
}

ErrorStats ErrorAccumulator::result() const {
    ErrorStats e;
    e.relError = m_yy > 0 ? std::sqrt(m_dd / m_yy) : (m_dd > 0 ? 1.0 : 0.0);
    e.sqnrDb =
        e.relError > 0 ? -20.0 * std::log10(e.relError) : std::numeric_limits<double>::infinity();
    e.cosine = m_yy > 0 && m_qq > 0 ? m_yq / std::sqrt(m_yy * m_qq) : 1.0;
    return e;
}

namespace {
// log-softmax of logits[vocab] into out, in double for the sums.
void logSoftmax(const float* logits, int vocab, std::vector<float>& out) {
    out.resize(size_t(vocab));
    const float mx = *std::max_element(logits, logits + vocab);
    double sum = 0.0;
    for (int i = 0; i < vocab; ++i) sum += std::exp(double(logits[i]) - mx);
    const float lse = float(std::log(sum)) + mx;
    for (int i = 0; i < vocab; ++i) out[size_t(i)] = logits[i] - lse;
}
}  // namespace

void LogitComparer::add(const float* fp, const float* q, int vocab, int target) {
    logSoftmax(fp, vocab, m_a);
    logSoftmax(q, vocab, m_b);
    double kl = 0.0;
    for (int i = 0; i < vocab; ++i) {
        const double p = std::exp(double(m_a[size_t(i)]));
        kl += p * (double(m_a[size_t(i)]) - double(m_b[size_t(i)]));
    }
    m_kl.push_back(std::max(0.0, kl));
    m_nll -= m_b[size_t(target)];
    const double dp = std::exp(double(m_b[size_t(target)])) - std::exp(double(m_a[size_t(target)]));
    m_dp2 += dp * dp;
    const auto topFp = std::max_element(fp, fp + vocab) - fp;
    const auto topQ = std::max_element(q, q + vocab) - q;
    m_same += topFp == topQ ? 1 : 0;
}

double LogitComparer::perplexity() const {
    return m_kl.empty() ? 0.0 : std::exp(m_nll / double(m_kl.size()));
}

EndToEnd LogitComparer::result(double fpPerplexity) const {
    EndToEnd e;
    const size_t n = m_kl.size();
    e.tokens = int64_t(n);
    if (n == 0) return e;
    e.perplexity = perplexity();
    e.deltaPpl = e.perplexity - fpPerplexity;
    double sum = 0.0;
    for (double k : m_kl) sum += k;
    e.klMean = sum / double(n);
    std::vector<double> sorted = m_kl;
    std::sort(sorted.begin(), sorted.end());
    const size_t idx = std::min(n - 1, size_t(std::ceil(0.999 * double(n))) - 1);
    e.klP999 = sorted[idx];
    e.sameTop1Pct = 100.0 * double(m_same) / double(n);
    e.rmsDpPct = 100.0 * std::sqrt(m_dp2 / double(n));
    return e;
}

}  // namespace mono::quant
