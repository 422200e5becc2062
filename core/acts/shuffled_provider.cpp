#include "core/acts/shuffled_provider.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <sstream>

namespace mono::acts {

Result<std::unique_ptr<ShuffledStoreProvider>> ShuffledStoreProvider::open(const std::string& dir,
                                                                           uint64_t seed,
                                                                           int groupShards) {
    MONO_ASSIGN_OR_RETURN(ActivationStoreReader reader, ActivationStoreReader::open(dir));
    if (reader.numShards() == 0)
        return Status::invalidArgument(dir + ": the activation store holds no rows yet");
    return std::unique_ptr<ShuffledStoreProvider>(
        new ShuffledStoreProvider(std::move(reader), seed, std::max(1, groupShards)));
}

int ShuffledStoreProvider::numGroups() const {
    return (m_reader.numShards() + m_groupShards - 1) / m_groupShards;
}

Status ShuffledStoreProvider::loadGroup() {
    // The shard order of an epoch, then the row order of a group, each from its own seed.
    std::vector<int> shardOrder(m_reader.numShards());
    std::iota(shardOrder.begin(), shardOrder.end(), 0);
    std::mt19937_64 epochRng(m_seed * 1000003ull + m_epoch);
    std::shuffle(shardOrder.begin(), shardOrder.end(), epochRng);

    const int first = m_group * m_groupShards;
    const int last = std::min<int>(first + m_groupShards, m_reader.numShards());
    std::vector<Shard> shards;
    int64_t rows = 0;
    for (int s = first; s < last; ++s) {
        MONO_ASSIGN_OR_RETURN(Shard shard, m_reader.readShard(shardOrder[s]));
        rows += shard.rows();
        shards.push_back(std::move(shard));
    }
    m_buffer.resize(rows, dim());
    int64_t r = 0;
    for (const auto& shard : shards) {
        m_buffer.middleRows(r, shard.rows()) = shard.acts;
        r += shard.rows();
    }
    m_order.resize(rows);
    std::iota(m_order.begin(), m_order.end(), 0);
    std::mt19937_64 groupRng((m_seed ^ 0x9e3779b97f4a7c15ull) + m_epoch * 7919u + m_group);
    std::shuffle(m_order.begin(), m_order.end(), groupRng);
    m_loaded = true;
    return Status::success();
}

Status ShuffledStoreProvider::next(Matrix& out) {
    for (int64_t r = 0; r < out.rows(); ++r) {
        if (!m_loaded || m_position >= static_cast<int64_t>(m_order.size())) {
            if (m_loaded) {
                m_position = 0;
                if (++m_group >= numGroups()) {
                    m_group = 0;
                    ++m_epoch;
                }
            }
            MONO_RETURN_IF_ERROR(loadGroup());
        }
        out.row(r) = m_buffer.row(m_order[m_position++]);
    }
    return Status::success();
}

std::string ShuffledStoreProvider::saveState() const {
    std::ostringstream s;
    s << "store-v1 " << m_epoch << ' ' << m_group << ' ' << m_position;
    return s.str();
}

Status ShuffledStoreProvider::restoreState(const std::string& state) {
    std::istringstream s(state);
    std::string tag;
    uint64_t epoch = 0;
    int group = 0;
    int64_t position = 0;
    if (!(s >> tag >> epoch >> group >> position) || tag != "store-v1" || group < 0 ||
        group >= numGroups() || position < 0)
        return Status::corruption(m_reader.dir() + ": cannot restore the reader position from '" +
                                  state + "'");
    m_epoch = epoch;
    m_group = group;
    MONO_RETURN_IF_ERROR(loadGroup());
    if (position > static_cast<int64_t>(m_order.size()))
        return Status::corruption(m_reader.dir() +
                                  ": saved reader position is past its shard group");
    m_position = position;
    return Status::success();
}

}  // namespace mono::acts
