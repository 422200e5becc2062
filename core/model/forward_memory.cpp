#include "core/model/forward_memory.h"

#include <omp.h>

namespace mono::model {

double forwardMemoryBytes(const ModelConfig& c, int64_t tokens, int64_t longestSeq,
                          bool allLogits) {
    const double n = double(tokens), C = c.dModel;
    const double qkv = double(c.nHeads + 2 * c.nKvHeads) * c.headDim;
    const double mlp = c.gatedMlp() ? 3.0 * c.dMlp : double(c.dMlp);
    const double perToken = 5 * C + qkv + double(c.nHeads) * c.headDim + mlp;
    const double scores = double(omp_get_max_threads()) * double(longestSeq) * double(longestSeq);
    const double sequences = longestSeq > 0 ? n / double(longestSeq) : n;
    const double logits = (allLogits ? n : sequences) * double(c.vocabSize);
    return 4.0 * (n * perToken + scores + logits);
}

}  // namespace mono::model
