#ifndef MODELMON_COMMON_SPLITMIX64_H_
#define MODELMON_COMMON_SPLITMIX64_H_

#include <cstdint>

namespace modelmon {

// SplitMix64 (Steele, Lea and Flood 2014): the seeded stream of every resampling and split, chosen
// because the fixture generators reproduce it exactly in Python (numpy's streams cannot be
// reproduced here). Per draw, all arithmetic modulo 2^64: state += 0x9E3779B97F4A7C15; z = state;
// z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
// return z ^ (z >> 31). The first draw uses state = seed + 0x9E3779B97F4A7C15.
// Not thread-safe; O(1) per draw.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Next() % bound: an index in [0, bound), with modulo bias below bound / 2^64.
  // Precondition: bound >= 1.
  uint64_t Below(uint64_t bound) { return Next() % bound; }

 private:
  uint64_t state_;
};

}  // namespace modelmon

#endif  // MODELMON_COMMON_SPLITMIX64_H_
