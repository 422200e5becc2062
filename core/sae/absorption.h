#pragma once
// Feature absorption on the first-letter task, after SAEBench (Chanin et al.,
// "A is for Absorption"), simplified where noted; docs/SAE.md has the formulas.
//
//   1. Words: the model's own vocabulary tokens that are a word of ≥ 2 ASCII
//      letters (one leading space allowed); the label is the first letter.
//   2. Activations at the SAE's hook for the prompt [BOS, word], read at the word.
//      (SAEBench reads the word inside an in-context "word: w-o-r-d" prompt;
//      here there are no in-context examples. Positions after the word cannot
//      change its activation, so the prompt's tail does not matter.)
//   3. A 26-way logistic-regression probe on 4/5 of the words (every 5th word
//      is held out), trained by full-batch gradient descent on centred, scaled
//      activations. Its column for letter L is the probe direction p_L.
//   4. Main features of L: features ranked by mean activation on L-words minus
//      on other words (training words). k grows from 1 while adding the k-th
//      raises the training F1 of "Σ top-k activations > 0" by more than 0.03,
//      up to 10. (SAEBench trains a k-sparse logistic probe at each k; here the
//      classifier is the sum of the k features, which needs no training.)
//   5. On held-out words the probe gets right (probe true positives), per word:
//      the absorption fraction and full absorption exactly as SAEBench defines
//      them from the probe projections a_f·cos(p_L, W_dec[f]).
//   Scores: per letter, mean fraction and full-absorption rate over its probe
//   true positives; the SAE's score is the mean over letters that have any.

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/progress.h"
#include "core/base/result.h"
#include "core/model/model.h"
#include "core/sae/sae.h"
#include "core/tokenizer/tokenizer.h"

namespace mono::sae {

struct FirstLetterWords {
    std::vector<int32_t> tokens;
    std::vector<int> letters;  // 0 = 'a' .. 25 = 'z'
};

// At most `maxWords` words, spread evenly over the qualifying tokens in id order.
FirstLetterWords firstLetterVocabulary(const tok::Tokenizer& tokenizer, int64_t maxWords = 4000);

// The hook's activation at the word of [BOS, word] for each token [tokens, width].
Result<Matrix> wordActivations(model::Model& model, const std::string& hook, int32_t bos,
                               const std::vector<int32_t>& tokens, StopToken stop = {});

struct AbsorptionOptions {
    int testEvery = 5;  // word i is held out when i % testEvery == testEvery − 1
    int probeSteps = 1000;
    double probeL2 = 1e-4;
    int maxK = 10;
    double f1Jump = 0.03;
    double fullCosThreshold = 0.025;    // SAEBench full_absorption_probe_cos_sim_threshold
    double fractionCosThreshold = 0.1;  // absorption_fraction_probe_cos_sim_threshold
    double projectionShare = 0.4;       // probe_projection_proportion_threshold
    int maxAbsorbers = 3;               // absorption_fraction_max_absorbing_latents
};

struct LetterAbsorption {
    int letter = 0;
    int64_t probeTruePositives = 0;
    std::vector<int32_t> mainFeatures;
    double meanAbsorptionFraction = 0;
    double fullAbsorptionRate = 0;
    int64_t fullAbsorptions = 0;
};

struct AbsorptionReport {
    int64_t words = 0;
    double probeTestAccuracy = 0;
    std::vector<LetterAbsorption> letters;  // letters with ≥ 1 probe true positive
    double meanAbsorptionFraction = 0;
    double meanFullAbsorption = 0;
    double meanSplitFeatures = 0;
    // Per feature [d_sae]: how often it was the absorbing feature of a full
    // absorption, the letter it absorbed most (−1: none), and the letter it is a
    // main feature of (−1: none; the lowest when several).
    std::vector<int32_t> absorbedCount;
    std::vector<int8_t> absorbedLetter;
    std::vector<int8_t> mainLetter;
};

// The absorption of an SAE from word activations x [words, d_in] and their
// letters. InvalidArgument on mismatched sizes, a letter outside 0..25, or no
// letter with both training and held-out words.
Result<AbsorptionReport> computeAbsorption(const Sae& sae, const Matrix& x,
                                           const std::vector<int>& letters,
                                           const AbsorptionOptions& options = {});

}  // namespace mono::sae
