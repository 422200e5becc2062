#pragma once
// std::vector with 64-byte aligned storage. Vectorised loops and Eigen
// reductions treat an unaligned head separately, so the order of floating-point
// sums depends on where a buffer starts; aligning every buffer makes training
// bit-for-bit repeatable (a resumed run equals an uninterrupted one).

#include <cstddef>
#include <new>
#include <vector>

namespace mono::lmtrain {

template <class T>
struct AlignedAllocator {
    using value_type = T;
    static constexpr std::align_val_t kAlign{64};
    AlignedAllocator() = default;
    template <class U>
    AlignedAllocator(const AlignedAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlign); }
    template <class U>
    bool operator==(const AlignedAllocator<U>&) const noexcept {
        return true;
    }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace mono::lmtrain
