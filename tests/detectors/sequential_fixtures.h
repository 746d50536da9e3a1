#ifndef MODELMON_TESTS_DETECTORS_SEQUENTIAL_FIXTURES_H_
#define MODELMON_TESTS_DETECTORS_SEQUENTIAL_FIXTURES_H_

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "detectors/fixture_util.h"

namespace modelmon::detectors::testing {

// Parsed JSON fixture from tests/fixtures/sequential/ (written by
// tests/fixtures/gen_sequential_fixtures.py).
inline nlohmann::json LoadSequentialFixture(const std::string& name) {
  std::ifstream in(std::string(MODELMON_FIXTURE_DIR) + "/sequential/" + name);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  return nlohmann::json::parse(in);
}

// The concatenated values of a list of Sample() specs; with binary_below, each value v becomes
// 1.0 when v < binary_below and 0.0 otherwise (gen_sequential_fixtures.py's stream()).
inline std::vector<double> Stream(const nlohmann::json& segments, const nlohmann::json* below) {
  std::vector<double> out;
  for (const auto& spec : segments) {
    for (const double v : Sample(spec)) out.push_back(v);
  }
  if (below != nullptr) {
    const double cut = below->get<double>();
    for (double& v : out) v = v < cut ? 1.0 : 0.0;
  }
  return out;
}

}  // namespace modelmon::detectors::testing

#endif  // MODELMON_TESTS_DETECTORS_SEQUENTIAL_FIXTURES_H_
