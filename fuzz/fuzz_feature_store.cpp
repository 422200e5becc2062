// libFuzzer target: opening a feature store (FeatureStore::open, read-only) on
// arbitrary bytes, then every read the feature browser makes.

#include <cstdint>

#include "core/features/feature_store.h"
#include "fuzz/fuzz_support.h"

using namespace mono;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::writeInput("features.sqlite", data, size);
    // A stale write-ahead log from a previous input must not be replayed.
    std::error_code ec;
    std::filesystem::remove(path + "-wal", ec);
    std::filesystem::remove(path + "-shm", ec);
    auto store = features::FeatureStore::open(path, features::FeatureStore::Mode::kReadOnly);
    if (!store.ok()) return 0;
    (void)store->runInfo();
    (void)store->featureCount();
    (void)store->densityHistogram();
    features::PageRequest request;
    request.limit = 20;
    (void)store->page(request);
    request.sort = features::SortKey::kDensity;
    request.descending = true;
    (void)store->page(request);
    (void)store->feature(0);
    (void)store->feature(1);
    (void)store->search("once upon", 10);
    return 0;
}
