#pragma once
// Feeds SAE training from an activation store without loading it whole: shards
// are visited in a seeded random order, a group of `groupShards` shards at a
// time, and the rows of a group are shuffled together (a shuffle buffer of
// groupShards × shard rows). Epochs wrap. The stream is a pure function of
// (seed, epoch, group, position), so a resumed run sees exactly the batches an
// uninterrupted one would have seen.

#include <cstdint>
#include <string>
#include <vector>

#include "core/acts/activation_store.h"
#include "core/acts/batch_provider.h"

namespace mono::acts {

class ShuffledStoreProvider : public acts::BatchProvider {
public:
    static Result<std::unique_ptr<ShuffledStoreProvider>> open(const std::string& dir,
                                                               uint64_t seed, int groupShards = 4);

    int64_t dim() const override { return m_reader.index().dim; }
    Status next(Matrix& out) override;
    std::string saveState() const override;
    Status restoreState(const std::string& state) override;

private:
    ShuffledStoreProvider(ActivationStoreReader reader, uint64_t seed, int groupShards)
        : m_reader(std::move(reader)), m_seed(seed), m_groupShards(groupShards) {}
    Status loadGroup();  // fills m_buffer and m_order for (m_epoch, m_group)
    int numGroups() const;

    ActivationStoreReader m_reader;
    uint64_t m_seed;
    int m_groupShards;
    uint64_t m_epoch = 0;
    int m_group = 0;
    int64_t m_position = 0;  // next row of m_order
    bool m_loaded = false;
    Matrix m_buffer;               // [rows of the group, dim]
    std::vector<int64_t> m_order;  // permutation of the buffer's rows
};

}  // namespace mono::acts
