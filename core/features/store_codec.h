#pragma once
// Compact encodings of a feature's detail in the feature store (schema 2,
// docs/FEATURE_STORE.md "Compact example storage"). A feature's examples,
// histogram, logit effects and related features each become one blob of
// LEB128 varints, float32s and bytes, little-endian:
//
//   examples: float32 scale S, varint #top, varint #interval, then per example
//     [varint bin (interval only)] varint rank, varint row, float32 activation,
//     varint tokenIndex, byte flags, [float32 value of the example token],
//     varint n, n varint token ids,
//     ceil(n/8) bytes "value is nonzero", one byte q (1..255) per nonzero value,
//     [ceil(k/8) bytes "value is negative" when flags say so]
//
// Values are quantized to the feature's scale S = the largest |value| in any
// of its windows: q = round(|v|·255/S), decoded as q·S/255, so the error is at
// most S/510. A nonzero value keeps q ≥ 1 (a token that fired still shows),
// which for |v| < S/510 means an error below S/255. The example token's own
// value is exact: a flag when it equals `activation` (stored as float32),
// else a float32 of its own (an analysis recomputes the context, which can
// differ from the pass's value in the last bits).
//
// Decoders never trust the blob: every length is checked against the bytes
// left, and they return false on anything malformed. Token strings are not
// part of the blobs; the store rebuilds them from its token_text table.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/features/feature_store.h"

namespace mono::features::codec {

// Histogram counts.
std::string encodeCounts(const std::vector<int64_t>& counts);
bool decodeCounts(std::string_view blob, std::vector<int64_t>* counts);

// Logit effects, without their text.
std::string encodeLogits(const std::vector<LogitEffect>& positive,
                         const std::vector<LogitEffect>& negative);
bool decodeLogits(std::string_view blob, std::vector<LogitEffect>* positive,
                  std::vector<LogitEffect>* negative);

// Decoder neighbours and co-firing features.
std::string encodeRelated(const std::vector<RelatedFeature>& neighbours,
                          const std::vector<RelatedFeature>& coFiring);
bool decodeRelated(std::string_view blob, std::vector<RelatedFeature>* neighbours,
                   std::vector<RelatedFeature>* coFiring);

// Examples without their strings; top examples are stored with bin −1.
std::string encodeExamples(const std::vector<Example>& top, const std::vector<Example>& interval);
bool decodeExamples(std::string_view blob, std::vector<Example>* top,
                    std::vector<Example>* interval);
// Only the token ids of the top examples (what search indexes), one list per window.
bool decodeTopTokens(std::string_view blob, std::vector<std::vector<int32_t>>* windows);

// The quantizer, exposed for tests: the scale S of a set of windows, and one
// value through encode and decode.
float quantizationScale(const std::vector<Example>& top, const std::vector<Example>& interval);
float quantize(float value, float scale);

}  // namespace mono::features::codec
