#pragma once
// The error measures of a quantized model against its float original.
//   per module   relative error ‖Y_q − Y‖/‖Y‖, SQNR = −20·log10(relative error) dB, cosine
//   end to end   perplexity, ΔPPL, mean and 99.9th-percentile KL(P_fp ‖ P_q) of the
//                next-token distributions, same top-1 %, RMS Δp (llama.cpp's
//                `perplexity --kl-divergence` labels; Δp = p_q(next) − p_fp(next))

#include <cstdint>
#include <vector>

namespace mono::quant {

struct ErrorStats {
    double relError = 0.0;
    double sqnrDb = 0.0;  // +inf for an exact match
    double cosine = 1.0;
};

// Sums over any number of (Y, Y_q) blocks; result() over all of them.
class ErrorAccumulator {
public:
    void add(const float* y, const float* yq, int64_t n);
    void add(const ErrorAccumulator& other);
    ErrorStats result() const;

private:
    double m_dd = 0.0, m_yy = 0.0, m_qq = 0.0, m_yq = 0.0;
};

struct EndToEnd {
    double perplexity = 0.0;
    double deltaPpl = 0.0;  // perplexity − the float model's
    double klMean = 0.0;    // nats
    double klP999 = 0.0;    // nats, 99.9th percentile over tokens
    double sameTop1Pct = 0.0;
    double rmsDpPct = 0.0;  // RMS of Δp, in percent
    int64_t tokens = 0;     // predictions scored
};

// Compares next-token distributions row by row.
class LogitComparer {
public:
    // One position: both models' logits [vocab] and the token that follows.
    void add(const float* fpLogits, const float* qLogits, int vocab, int target);
    // `fpPerplexity`: the float model's, for ΔPPL.
    EndToEnd result(double fpPerplexity) const;
    double perplexity() const;

private:
    std::vector<double> m_kl;
    double m_nll = 0.0, m_dp2 = 0.0;
    int64_t m_same = 0;
    std::vector<float> m_a, m_b;  // scratch log-softmax rows
};

}  // namespace mono::quant
