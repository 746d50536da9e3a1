#include "detectors/radix_sort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace modelmon::detectors::internal {
namespace {

std::vector<double> Mixed(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> kind(0, 9);
  std::vector<double> v;
  for (size_t i = 0; i < n; ++i) {
    switch (kind(rng)) {
      case 0:
        v.push_back(0.0);
        break;
      case 1:
        v.push_back(-0.0);
        break;
      case 2:
        v.push_back(std::numeric_limits<double>::denorm_min() * static_cast<double>(i % 7) *
                    (i % 2 ? -1 : 1));
        break;
      case 3:
        v.push_back(std::numeric_limits<double>::max() * (i % 2 ? -1 : 1));
        break;
      case 4:
        v.push_back(std::round(normal(rng) * 3));  // Ties.
        break;
      default:
        v.push_back(normal(rng) * std::pow(10.0, static_cast<double>(kind(rng)) - 5));
    }
  }
  return v;
}

TEST(RadixSortTest, MatchesStdSort) {
  for (size_t n : {0u, 1u, 2u, 255u, 256u, 257u, 4096u, 100000u}) {
    std::vector<double> got = Mixed(n, n + 1);
    std::vector<double> want = got;
    SortDoubles(got);
    std::sort(want.begin(), want.end());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], want[i]) << "n " << n << " at " << i;
    ASSERT_TRUE(std::is_sorted(got.begin(), got.end()));
  }
}

TEST(RadixSortTest, NarrowRangesAndConstants) {
  // Values that agree on their high bits, so most passes are skipped.
  std::vector<double> got;
  for (int i = 0; i < 5000; ++i) got.push_back(1000.0 + (i * 7919 % 5000) * 1e-9);
  std::vector<double> want = got;
  SortDoubles(got);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  std::vector<double> constant(3000, -2.5);
  SortDoubles(constant);
  EXPECT_EQ(constant, std::vector<double>(3000, -2.5));
}

}  // namespace
}  // namespace modelmon::detectors::internal
