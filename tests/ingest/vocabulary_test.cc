// Every vocabulary table is documented in README.md: a name added to a table without its
// documentation fails here.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "alerts/alertable_metrics.h"
#include "detectors/drift_tests.h"
#include "ingest/reject_reason.h"

namespace modelmon {
namespace {

using ::testing::HasSubstr;

std::string Readme() {
  std::ifstream in(std::string(MODELMON_SOURCE_DIR) + "/README.md", std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The README line that starts with `prefix` (a table row); "" when there is none.
std::string Row(const std::string& readme, std::string_view prefix) {
  std::istringstream lines(readme);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

// `name`, as the README writes code.
std::string Code(std::string_view name) {
  std::string out(1, '`');
  out.append(name);
  out += '`';
  return out;
}

// A word of a prose list: " name".
std::string Word(std::string_view name) {
  std::string out(1, ' ');
  out.append(name);
  return out;
}

class ReadmeVocabularyTest : public ::testing::Test {
 protected:
  const std::string readme_ = Readme();
};

TEST_F(ReadmeVocabularyTest, ReadmeIsThere) { ASSERT_THAT(readme_, HasSubstr("# modelmon")); }

TEST_F(ReadmeVocabularyTest, DriftTestsAreListedForTheirFeatureTypes) {
  const std::string numerical = Row(readme_, "| `models[].drift.numerical_tests`");
  const std::string categorical = Row(readme_, "| `models[].drift.categorical_tests`");
  const std::string statistic = Row(readme_, "| `modelmon_drift_statistic`");
  ASSERT_FALSE(numerical.empty());
  ASSERT_FALSE(categorical.empty());
  ASSERT_FALSE(statistic.empty());
  EXPECT_THAT(numerical, HasSubstr(Code(detectors::kAutoDriftTest)));
  EXPECT_THAT(categorical, HasSubstr(Code(detectors::kAutoDriftTest)));
  for (const detectors::DriftTestInfo& test : detectors::kDriftTests) {
    if (test.numerical) {
      EXPECT_THAT(numerical, HasSubstr(Code(test.name)));
    }
    if (test.categorical) {
      EXPECT_THAT(categorical, HasSubstr(Code(test.name)));
    }
    if (test.p_value) {  // "test results (p-values for ks and chi2)".
      EXPECT_THAT(statistic, HasSubstr(Word(test.name)));
    }
  }
}

TEST_F(ReadmeVocabularyTest, AlertableMetricsAreListedInTheAlertRuleTable) {
  const std::string metric = Row(readme_, "| `metric` |");
  const std::string baseline = Row(readme_, "| `models[].performance.baseline`");
  ASSERT_FALSE(metric.empty());
  ASSERT_FALSE(baseline.empty());
  for (const alerts::AlertableMetric& m : alerts::kAlertableMetrics) {
    EXPECT_THAT(metric, HasSubstr(Code(m.name)));
    if (m.family == alerts::MetricFamily::kPerformance) {
      EXPECT_THAT(baseline, HasSubstr(Word(m.name)));
    }
  }
}

TEST_F(ReadmeVocabularyTest, RejectionReasonsAreListedWithTheirCounter) {
  const std::string rejected = Row(readme_, "| `modelmon_events_rejected_total`");
  ASSERT_FALSE(rejected.empty());
  for (const char* reason : ingest::kRejectReasonNames) {
    EXPECT_THAT(rejected, HasSubstr(Code(reason)));
  }
  for (const char* reason : ingest::kBodyRejectReasons) {
    EXPECT_THAT(rejected, HasSubstr(Code(reason)));
  }
}

}  // namespace
}  // namespace modelmon
