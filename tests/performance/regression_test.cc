#include "performance/regression.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "performance/fixture_util.h"

namespace modelmon::performance {
namespace {

using testing::Close;
using testing::LoadFixture;

void ExpectMetrics(const nlohmann::json& e, const RegressionMetrics& m) {
  EXPECT_EQ(e["samples"].get<int64_t>(), m.samples);
  EXPECT_TRUE(Close(e["mae"].get<double>(), m.mae)) << "mae";
  EXPECT_TRUE(Close(e["mse"].get<double>(), m.mse)) << "mse";
  EXPECT_TRUE(Close(e["rmse"].get<double>(), m.rmse)) << "rmse";
  EXPECT_TRUE(Close(e["mape"].get<double>(), m.mape)) << "mape";
  EXPECT_TRUE(Close(e["mean_error"].get<double>(), m.mean_error)) << "mean_error";
  if (e["r2"].is_null()) {
    EXPECT_FALSE(m.r2.has_value());
  } else {
    ASSERT_TRUE(m.r2.has_value());
    EXPECT_TRUE(Close(e["r2"].get<double>(), *m.r2)) << "r2";
  }
}

// Replays each fixture stream (add sample i, remove sample i - window) and compares every
// checkpoint with scikit-learn; the "long" stream makes 10^6 additions and removals.
TEST(RegressionWindowTest, MatchesSklearnOnFixtureStreams) {
  const nlohmann::json fixture = LoadFixture("regression.json");
  ASSERT_GE(fixture["streams"].size(), 5u);
  for (const nlohmann::json& stream : fixture["streams"]) {
    SCOPED_TRACE(stream["name"].get<std::string>());
    const size_t window = stream["window"].get<size_t>();
    std::vector<std::pair<double, double>> samples;
    const nlohmann::json& data = stream.contains("samples") ? stream["samples"] : stream["block"];
    for (const auto& j : data) samples.emplace_back(j[0].get<double>(), j[1].get<double>());
    const size_t length =
        samples.size() * (stream.contains("repeats") ? stream["repeats"].get<size_t>() : 1);
    std::vector<std::pair<size_t, const nlohmann::json*>> checkpoints;
    ASSERT_FALSE(stream["checkpoints"].empty());
    for (const auto& c : stream["checkpoints"]) {
      checkpoints.emplace_back(c["index"].get<size_t>(), &c["metrics"]);
    }
    std::sort(checkpoints.begin(), checkpoints.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    RegressionWindow w;
    size_t next_checkpoint = 0;
    for (size_t i = 0; i < length; ++i) {
      const auto& in = samples[i % samples.size()];
      w.Add(in.first, in.second);
      if (i >= window) {
        const auto& out = samples[(i - window) % samples.size()];
        w.Remove(out.first, out.second);
      }
      while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint].first == i) {
        SCOPED_TRACE("checkpoint " + std::to_string(i));
        ASSERT_EQ(std::min(i + 1, window), w.size());
        ExpectMetrics(*checkpoints[next_checkpoint].second, w.Compute());
        ++next_checkpoint;
      }
    }
    EXPECT_EQ(next_checkpoint, checkpoints.size());
  }
}

TEST(RegressionWindowTest, EmptyAndSingleSampleWindows) {
  RegressionWindow w;
  RegressionMetrics m = w.Compute();
  EXPECT_EQ(m.samples, 0);
  EXPECT_EQ(m.mae, 0.0);
  EXPECT_FALSE(m.r2);
  w.Add(1.0, 3.0);
  m = w.Compute();
  EXPECT_EQ(m.samples, 1);
  EXPECT_FALSE(m.r2);
  w.Remove(1.0, 3.0);
  EXPECT_EQ(w.size(), 0u);
}

// Exact accumulators: removing every added pair leaves exactly nothing behind, whatever the
// magnitudes, so a later window is unaffected by history.
TEST(RegressionWindowTest, HistoryLeavesNoResidue) {
  RegressionWindow w;
  const double values[] = {1e150, -3e-150, 7.25, 1e-5, -123456789.123, 0.1};
  for (double a : values) {
    for (double b : values) w.Add(a, b * 0.5);
  }
  for (double a : values) {
    for (double b : values) w.Remove(a, b * 0.5);
  }
  w.Add(0.1, 0.3);
  w.Add(0.2, 0.1);
  RegressionWindow fresh;
  fresh.Add(0.1, 0.3);
  fresh.Add(0.2, 0.1);
  const RegressionMetrics a = w.Compute();
  const RegressionMetrics b = fresh.Compute();
  EXPECT_EQ(a.mae, b.mae);
  EXPECT_EQ(a.mse, b.mse);
  EXPECT_EQ(a.mape, b.mape);
  EXPECT_EQ(a.mean_error, b.mean_error);
  EXPECT_EQ(*a.r2, *b.r2);
}

TEST(RegressionWindowTest, RejectsNonFiniteValues) {
  RegressionWindow w;
  EXPECT_THROW(w.Add(std::numeric_limits<double>::quiet_NaN(), 1.0), std::invalid_argument);
  EXPECT_THROW(w.Add(1.0, std::numeric_limits<double>::infinity()), std::invalid_argument);
  EXPECT_THROW(w.Add(1e200, -1e200), std::invalid_argument);  // squared error overflows
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
}  // namespace modelmon::performance
