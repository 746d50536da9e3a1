#ifndef MODELMON_TESTS_DETECTORS_FIXTURE_UTIL_H_
#define MODELMON_TESTS_DETECTORS_FIXTURE_UTIL_H_

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace modelmon::detectors::testing {

// Parsed JSON fixture from tests/fixtures/drift/ (written by tests/fixtures/gen_drift_fixtures.py).
inline nlohmann::json LoadFixture(const std::string& name) {
  std::ifstream in(std::string(MODELMON_FIXTURE_DIR) + "/drift/" + name);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  return nlohmann::json::parse(in);
}

// Regenerates the values of a sample spec bit for bit as gen_drift_fixtures.py's sample(): explicit
// "values", or a splitmix64 stream mapped to doubles with exactly rounded operations only.
inline std::vector<double> Sample(const nlohmann::json& spec) {
  std::vector<double> out;
  if (spec.contains("values")) {
    for (const auto& v : spec["values"]) out.push_back(v.get<double>());
    return out;
  }
  uint64_t state = spec["seed"].get<uint64_t>();
  auto next = [&state]() {
    state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  const auto n = spec["n"].get<size_t>();
  const std::string kind = spec["kind"].get<std::string>();
  const double scale = spec["scale"].get<double>();
  const double shift = spec["shift"].get<double>();
  const double unit = std::ldexp(1.0, -53);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (kind == "cont") {
      const double u1 = static_cast<double>(next() >> 11) * unit;
      const double u2 = static_cast<double>(next() >> 11) * unit;
      const double u3 = static_cast<double>(next() >> 11) * unit;
      out.push_back(shift + scale * ((u1 + u2) + u3));
    } else {
      const auto levels = spec["levels"].get<uint64_t>();
      out.push_back(shift + scale * static_cast<double>(next() % levels));
    }
  }
  return out;
}

inline std::vector<double> Doubles(const nlohmann::json& array) {
  std::vector<double> out;
  for (const auto& v : array) out.push_back(v.get<double>());
  return out;
}

// Relative error |actual - expected| / |expected| (absolute when expected == 0).
inline double RelError(double actual, double expected) {
  const double diff = std::abs(actual - expected);
  return expected == 0.0 ? diff : diff / std::abs(expected);
}

// The team's p-value tolerance: 1e-6 relative, or 1e-15 absolute when the expected p < 1e-9.
inline ::testing::AssertionResult PValueNear(double actual, double expected) {
  const bool ok =
      expected < 1e-9 ? std::abs(actual - expected) <= 1e-15 : RelError(actual, expected) <= 1e-6;
  if (ok && std::isfinite(actual)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "p " << actual << " vs expected " << expected << " (rel "
                                       << RelError(actual, expected) << ")";
}

// Statistic tolerance: 1e-12 relative (absolute when the expected value is 0).
inline ::testing::AssertionResult StatisticNear(double actual, double expected,
                                                double tolerance = 1e-12) {
  if (std::isfinite(actual) && RelError(actual, expected) <= tolerance) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "statistic " << actual << " vs expected " << expected
                                       << " (rel " << RelError(actual, expected) << ")";
}

}  // namespace modelmon::detectors::testing

#endif  // MODELMON_TESTS_DETECTORS_FIXTURE_UTIL_H_
