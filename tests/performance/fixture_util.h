#ifndef MODELMON_TESTS_PERFORMANCE_FIXTURE_UTIL_H_
#define MODELMON_TESTS_PERFORMANCE_FIXTURE_UTIL_H_

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace modelmon::performance::testing {

// Reads tests/fixtures/<dir>/<name>: performance/ is written by gen_performance_fixtures.py,
// estimation/ by gen_estimation_fixtures.py (both in tests/fixtures/).
inline nlohmann::json LoadFixture(const std::string& name, const std::string& dir = "performance") {
  const std::string path = std::string(MODELMON_FIXTURE_DIR) + "/" + dir + "/" + name;
  std::ifstream in(path);
  if (!in) ADD_FAILURE() << "cannot open " << path;
  return nlohmann::json::parse(in);
}

// |actual - expected| <= max(1e-9 * |expected|, 1e-12).
inline ::testing::AssertionResult Close(double expected, double actual) {
  const double tolerance = std::fmax(1e-9 * std::fabs(expected), 1e-12);
  if (std::fabs(actual - expected) <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected " << expected << ", got " << actual << " (difference " << actual - expected
         << ", tolerance " << tolerance << ")";
}

// An optional metric against its fixture value: absent where the fixture has null, otherwise
// Close() to it. `what` names the metric in the failure message.
inline void ExpectOptional(const nlohmann::json& expected, const std::optional<double>& actual,
                           const char* what) {
  if (expected.is_null()) {
    EXPECT_FALSE(actual.has_value()) << what;
  } else {
    ASSERT_TRUE(actual.has_value()) << what;
    EXPECT_TRUE(Close(expected.get<double>(), *actual)) << what;
  }
}

}  // namespace modelmon::performance::testing

#endif  // MODELMON_TESTS_PERFORMANCE_FIXTURE_UTIL_H_
