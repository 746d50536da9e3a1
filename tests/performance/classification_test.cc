#include "performance/classification.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <vector>

#include "performance/fixture_util.h"

namespace modelmon::performance {
namespace {

using testing::Close;
using testing::LoadFixture;

ClassificationSample ToSample(const nlohmann::json& j) {
  ClassificationSample s;
  s.label = j[0].get<int32_t>();
  s.predicted = j[1].get<int32_t>();
  s.score = std::numeric_limits<double>::quiet_NaN();
  if (j[2].is_array()) {
    s.class_scores = j[2].get<std::vector<double>>();
  } else if (j[2].is_number()) {
    s.score = j[2].get<double>();
  }
  return s;
}

void ExpectOptional(const nlohmann::json& expected, const std::optional<double>& actual,
                    const std::string& reason, const char* what) {
  if (expected.is_null()) {
    EXPECT_FALSE(actual.has_value()) << what << " = " << actual.value_or(0.0);
    EXPECT_FALSE(reason.empty()) << what << " lacks a reason";
  } else {
    ASSERT_TRUE(actual.has_value()) << what << " unavailable: " << reason;
    EXPECT_TRUE(Close(expected.get<double>(), *actual)) << what;
  }
}

void ExpectTriple(const nlohmann::json& expected, double p, double r, double f, const char* what) {
  EXPECT_TRUE(Close(expected[0].get<double>(), p)) << what << " precision";
  EXPECT_TRUE(Close(expected[1].get<double>(), r)) << what << " recall";
  EXPECT_TRUE(Close(expected[2].get<double>(), f)) << what << " f1";
}

void ExpectMetrics(const nlohmann::json& e, const ClassificationMetrics& m, bool binary) {
  EXPECT_EQ(e["samples"].get<int64_t>(), m.samples);
  EXPECT_TRUE(Close(e["accuracy"].get<double>(), m.accuracy)) << "accuracy";
  EXPECT_EQ(e["confusion"].get<std::vector<int64_t>>(), m.confusion);
  ASSERT_EQ(e["per_class"].size(), m.per_class.size());
  for (size_t c = 0; c < m.per_class.size(); ++c) {
    SCOPED_TRACE("class " + std::to_string(c));
    const ClassMetrics& cm = m.per_class[c];
    ExpectTriple(e["per_class"][c], cm.precision, cm.recall, cm.f1, "per-class");
    EXPECT_EQ(e["per_class"][c][3].get<int64_t>(), cm.support);
  }
  ExpectTriple(e["macro"], m.macro_precision, m.macro_recall, m.macro_f1, "macro");
  ExpectTriple(e["micro"], m.micro_precision, m.micro_recall, m.micro_f1, "micro");
  ExpectTriple(e["weighted"], m.weighted_precision, m.weighted_recall, m.weighted_f1, "weighted");
  if (binary) {
    ExpectTriple(e["binary"], m.precision, m.recall, m.f1, "binary");
    EXPECT_TRUE(Close(e["predicted_positive_rate"].get<double>(), m.predicted_positive_rate));
    EXPECT_TRUE(Close(e["label_positive_rate"].get<double>(), m.label_positive_rate));
  }
  ExpectOptional(e["roc_auc"], m.roc_auc, m.roc_auc_unavailable, "roc_auc");
  ExpectOptional(e["log_loss"], m.log_loss, m.log_loss_unavailable, "log_loss");
}

// Replays every fixture stream through a window of the fixture's size: add sample i, remove
// sample i - window, and compare at each checkpoint with scikit-learn's values.
TEST(ClassificationWindowTest, MatchesSklearnOnFixtureStreams) {
  const nlohmann::json fixture = LoadFixture("classification.json");
  ASSERT_GE(fixture["streams"].size(), 8u);
  for (const nlohmann::json& stream : fixture["streams"]) {
    SCOPED_TRACE(stream["name"].get<std::string>());
    const int32_t k = stream["num_classes"].get<int32_t>();
    std::optional<int32_t> pos;
    if (!stream["positive_class"].is_null()) pos = stream["positive_class"].get<int32_t>();
    const size_t window = stream["window"].get<size_t>();
    std::vector<ClassificationSample> samples;
    size_t length = 0;
    if (stream.contains("samples")) {
      for (const auto& j : stream["samples"]) samples.push_back(ToSample(j));
      length = samples.size();
    } else {
      for (const auto& j : stream["block"]) samples.push_back(ToSample(j));
      length = samples.size() * stream["repeats"].get<size_t>();
    }
    ClassificationWindow w(k, pos);
    size_t next_checkpoint = 0;
    std::vector<std::pair<size_t, const nlohmann::json*>> checkpoints;
    ASSERT_FALSE(stream["checkpoints"].empty());
    for (const auto& c : stream["checkpoints"]) {
      checkpoints.emplace_back(c["index"].get<size_t>(), &c["metrics"]);
    }
    std::sort(checkpoints.begin(), checkpoints.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < length; ++i) {
      w.Add(samples[i % samples.size()]);
      if (i >= window) w.Remove(samples[(i - window) % samples.size()]);
      ASSERT_EQ(std::min(i + 1, window), w.size());
      while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint].first == i) {
        SCOPED_TRACE("checkpoint " + std::to_string(i));
        ExpectMetrics(*checkpoints[next_checkpoint].second, w.Compute(), pos.has_value());
        ++next_checkpoint;
      }
    }
    EXPECT_EQ(next_checkpoint, checkpoints.size());
  }
}

TEST(ClassificationWindowTest, EmptyWindowHasNoRatesAndReasons) {
  ClassificationWindow w(3, std::nullopt);
  const ClassificationMetrics m = w.Compute();
  EXPECT_EQ(m.samples, 0);
  EXPECT_EQ(m.accuracy, 0.0);
  EXPECT_EQ(m.confusion, std::vector<int64_t>(9, 0));
  EXPECT_FALSE(m.roc_auc);
  EXPECT_EQ(m.roc_auc_unavailable, "empty window");
  EXPECT_FALSE(m.log_loss);
}

TEST(ClassificationWindowTest, RemovingEverythingReturnsToEmpty) {
  const nlohmann::json fixture = LoadFixture("classification.json");
  const nlohmann::json& stream = fixture["streams"][0];
  ClassificationWindow w(2, 1);
  std::vector<ClassificationSample> samples;
  for (const auto& j : stream["samples"]) samples.push_back(ToSample(j));
  for (const auto& s : samples) w.Add(s);
  for (const auto& s : samples) w.Remove(s);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.Compute().confusion, std::vector<int64_t>(4, 0));
  // The exact log-loss sum is back to zero: re-adding the first sample alone gives its own loss.
  w.Add(samples[0]);
  ClassificationWindow fresh(2, 1);
  fresh.Add(samples[0]);
  EXPECT_EQ(*w.Compute().log_loss, *fresh.Compute().log_loss);
}

TEST(ClassificationWindowTest, RejectsInvalidInputWithoutChangingState) {
  EXPECT_THROW(ClassificationWindow(1, std::nullopt), std::invalid_argument);
  EXPECT_THROW(ClassificationWindow(3, 1), std::invalid_argument);
  EXPECT_THROW(ClassificationWindow(2, 2), std::invalid_argument);
  ClassificationWindow binary(2, 1);
  EXPECT_THROW(binary.Add({2, 0, 0.5, {}}), std::invalid_argument);
  EXPECT_THROW(binary.Add({0, -1, 0.5, {}}), std::invalid_argument);
  EXPECT_THROW(binary.Add({0, 0, std::numeric_limits<double>::infinity(), {}}),
               std::invalid_argument);
  EXPECT_EQ(binary.size(), 0u);
  ClassificationWindow multi(3, std::nullopt);
  EXPECT_THROW(multi.Add({0, 0, 0.0, {0.5, 0.5}}), std::invalid_argument);
  EXPECT_THROW(multi.Add({0, 0, 0.0, {0.5, std::nan(""), 0.5}}), std::invalid_argument);
  EXPECT_EQ(multi.size(), 0u);
}

}  // namespace
}  // namespace modelmon::performance
