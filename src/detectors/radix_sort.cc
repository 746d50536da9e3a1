#include "detectors/radix_sort.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace modelmon::detectors::internal {
namespace {

constexpr int kDigitBits = 11;
constexpr size_t kBuckets = size_t{1} << kDigitBits;
constexpr int kPasses = (64 + kDigitBits - 1) / kDigitBits;
constexpr size_t kSmall = 256;
constexpr uint64_t kSign = uint64_t{1} << 63;

// Unsigned image whose order is the order of the doubles: negative values have every bit flipped,
// the others only the sign bit.
uint64_t KeyOf(double value) {
  const auto bits = std::bit_cast<uint64_t>(value);
  return (bits & kSign) != 0 ? ~bits : bits | kSign;
}

double ValueOf(uint64_t key) {
  return std::bit_cast<double>((key & kSign) != 0 ? key & ~kSign : ~key);
}

size_t Digit(uint64_t key, int pass) {
  return static_cast<size_t>((key >> (pass * kDigitBits)) & (kBuckets - 1));
}

}  // namespace

void SortDoubles(std::span<double> values) {
  const size_t n = values.size();
  if (n < kSmall || n > UINT32_MAX) {
    std::sort(values.begin(), values.end());
    return;
  }
  std::vector<uint64_t> keys(n);
  std::vector<uint64_t> scratch(n);
  std::vector<std::array<uint32_t, kBuckets>> counts(kPasses);
  for (auto& c : counts) c.fill(0);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t key = KeyOf(values[i]);
    keys[i] = key;
    for (int p = 0; p < kPasses; ++p) ++counts[static_cast<size_t>(p)][Digit(key, p)];
  }
  for (int p = 0; p < kPasses; ++p) {
    auto& count = counts[static_cast<size_t>(p)];
    if (count[Digit(keys[0], p)] == n) continue;  // Every key has this digit: nothing to do.
    uint32_t offset = 0;
    for (uint32_t& c : count) {
      const uint32_t here = c;
      c = offset;
      offset += here;
    }
    for (const uint64_t key : keys) scratch[count[Digit(key, p)]++] = key;
    keys.swap(scratch);
  }
  for (size_t i = 0; i < n; ++i) values[i] = ValueOf(keys[i]);
}

}  // namespace modelmon::detectors::internal
