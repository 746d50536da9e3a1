#include "metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace modelmon::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

// The exposition lines of `text` that start with `prefix`, in order.
std::vector<std::string> Lines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, prefix.size(), prefix) == 0) out.push_back(line);
  }
  return out;
}

TEST(MetricsTest, CounterCountsPerLabelSet) {
  Registry registry;
  CounterFamily family = registry.AddCounter("test_events_total", "Events.");
  Counter a = family.With({{"model", "a"}});
  Counter b = family.With({{"model", "b"}});
  a.Inc();
  a.Inc(2.5);
  b.Inc();
  EXPECT_DOUBLE_EQ(a.Value(), 3.5);
  EXPECT_DOUBLE_EQ(b.Value(), 1.0);
  // The same labels name the same series.
  EXPECT_DOUBLE_EQ(family.With({{"model", "a"}}).Value(), 3.5);
  // Series of one family come in no particular order.
  EXPECT_THAT(Lines(registry.Serialize(), "test_events_total{"),
              UnorderedElementsAre("test_events_total{model=\"a\"} 3.5",
                                   "test_events_total{model=\"b\"} 1"));
}

TEST(MetricsTest, DefaultHandlesIgnoreUpdates) {
  Counter c;
  Gauge g;
  Histogram h;
  c.Inc(5);
  g.Set(5);
  h.Observe(5);
  EXPECT_EQ(c.Value(), 0.0);
  EXPECT_EQ(g.Value(), 0.0);
}

TEST(MetricsTest, GaugeSetsAndRemoveDropsTheSeries) {
  Registry registry;
  GaugeFamily family = registry.AddGauge("test_window_events", "Window size.");
  Gauge kept = family.With({{"model", "kept"}});
  Gauge gone = family.With({{"model", "gone"}});
  kept.Set(7);
  kept.Set(-1.5);
  gone.Set(3);
  EXPECT_DOUBLE_EQ(kept.Value(), -1.5);
  EXPECT_THAT(registry.Serialize(), HasSubstr("test_window_events{model=\"gone\"} 3\n"));
  family.Remove(gone);
  family.Remove(Gauge());  // A default handle is ignored.
  const std::string text = registry.Serialize();
  EXPECT_THAT(text, Not(HasSubstr("model=\"gone\"")));
  EXPECT_THAT(text, HasSubstr("test_window_events{model=\"kept\"} -1.5\n"));
}

TEST(MetricsTest, HistogramHasCumulativeBucketsInfSumAndCount) {
  Registry registry;
  HistogramFamily family = registry.AddHistogram("test_latency_seconds", "Latency.", {0.1, 1.0});
  Histogram h = family.With({{"handler", "ingest"}});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(0.5);
  h.Observe(10);
  const std::string text = registry.Serialize();
  EXPECT_EQ(Lines(text, "# TYPE test_latency_seconds"),
            (std::vector<std::string>{"# TYPE test_latency_seconds histogram"}));
  EXPECT_EQ(
      Lines(text, "test_latency_seconds"),
      (std::vector<std::string>{"test_latency_seconds_count{handler=\"ingest\"} 4",
                                "test_latency_seconds_sum{handler=\"ingest\"} 11.05",
                                "test_latency_seconds_bucket{handler=\"ingest\",le=\"0.1\"} 1",
                                "test_latency_seconds_bucket{handler=\"ingest\",le=\"1\"} 3",
                                "test_latency_seconds_bucket{handler=\"ingest\",le=\"+Inf\"} 4"}));
}

TEST(MetricsTest, SerializeWritesHelpAndTypeBeforeTheSamples) {
  Registry registry;
  registry.AddCounter("test_requests_total", "Requests served.").With({}).Inc();
  registry.AddGauge("test_ready", "Readiness.").With({}).Set(1);
  const std::string text = registry.Serialize();
  EXPECT_THAT(text, HasSubstr("# HELP test_requests_total Requests served.\n"
                              "# TYPE test_requests_total counter\n"
                              "test_requests_total 1\n"));
  EXPECT_THAT(text, HasSubstr("# HELP test_ready Readiness.\n"
                              "# TYPE test_ready gauge\n"
                              "test_ready 1\n"));
  // The process collectors are always there.
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_EQ(Lines(text, "process_open_fds ").size(), 1u);
  // Every line is a comment or a sample; the exposition ends with a newline.
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_THAT(text, Not(HasSubstr("\n\n")));
}

TEST(MetricsTest, SerializeEscapesLabelValues) {
  Registry registry;
  registry.AddGauge("test_label", "Escaping.")
      .With({{"value", "back\\slash \"quoted\"\nnext"}})
      .Set(1);
  EXPECT_EQ(
      Lines(registry.Serialize(), "test_label{"),
      (std::vector<std::string>{"test_label{value=\"back\\\\slash \\\"quoted\\\"\\nnext\"} 1"}));
}

TEST(MetricsTest, SerializeWritesNonFiniteValues) {
  Registry registry;
  GaugeFamily family = registry.AddGauge("test_p_value", "P-value.");
  family.With({{"k", "nan"}}).Set(std::numeric_limits<double>::quiet_NaN());
  family.With({{"k", "inf"}}).Set(std::numeric_limits<double>::infinity());
  family.With({{"k", "ninf"}}).Set(-std::numeric_limits<double>::infinity());
  const std::string text = registry.Serialize();
  EXPECT_THAT(text, HasSubstr("test_p_value{k=\"nan\"} Nan\n"));
  EXPECT_THAT(text, HasSubstr("test_p_value{k=\"inf\"} +Inf\n"));
  EXPECT_THAT(text, HasSubstr("test_p_value{k=\"ninf\"} -Inf\n"));
}

TEST(MetricsTest, RaiseCounterRaisesToAtLeastTheValue) {
  Registry registry;
  CounterFamily family = registry.AddCounter("test_restored_total", "Restored.");
  Counter c = family.With({{"model", "m"}});
  c.Inc(5);
  EXPECT_TRUE(registry.RaiseCounter("test_restored_total", {{"model", "m"}}, 8));
  EXPECT_DOUBLE_EQ(c.Value(), 8);
  EXPECT_TRUE(registry.RaiseCounter("test_restored_total", {{"model", "m"}}, 2));  // Never lower.
  EXPECT_DOUBLE_EQ(c.Value(), 8);
  // A new label set creates the series.
  EXPECT_TRUE(registry.RaiseCounter("test_restored_total", {{"model", "new"}}, 4));
  EXPECT_DOUBLE_EQ(family.With({{"model", "new"}}).Value(), 4);
}

TEST(MetricsTest, RaiseCounterRefusesUnknownFamiliesInvalidLabelsAndNonFiniteValues) {
  Registry registry;
  registry.AddCounter("test_restored_total", "Restored.");
  registry.AddGauge("test_gauge", "A gauge.");
  EXPECT_FALSE(registry.RaiseCounter("test_unknown_total", {}, 1));
  EXPECT_FALSE(registry.RaiseCounter("test_gauge", {}, 1));  // Gauges are not counters.
  EXPECT_FALSE(registry.RaiseCounter("test_restored_total", {{"0bad", "x"}}, 1));
  EXPECT_FALSE(registry.RaiseCounter("test_restored_total", {{"model", "m"}},
                                     std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(registry.RaiseCounter("test_restored_total", {{"model", "m"}},
                                     std::numeric_limits<double>::infinity()));
  EXPECT_TRUE(registry.Counters("test_restored").empty());
}

TEST(MetricsTest, CountersListsTheCounterSeriesUnderAPrefix) {
  Registry registry;
  CounterFamily events = registry.AddCounter("test_events_total", "Events.");
  events.With({{"model", "a"}, {"kind", "prediction"}}).Inc(3);
  events.With({{"model", "b"}, {"kind", "label"}}).Inc(1);
  registry.AddCounter("other_total", "Elsewhere.").With({}).Inc(9);
  registry.AddGauge("test_gauge", "Not a counter.").With({}).Set(2);
  std::vector<Registry::CounterValue> values = registry.Counters("test_");
  ASSERT_EQ(values.size(), 2u);
  std::map<Labels, double> by_labels;
  for (const auto& v : values) {
    EXPECT_EQ(v.name, "test_events_total");
    by_labels[v.labels] = v.value;
  }
  EXPECT_EQ(by_labels, (std::map<Labels, double>{{{{"kind", "prediction"}, {"model", "a"}}, 3.0},
                                                 {{{"kind", "label"}, {"model", "b"}}, 1.0}}));
  EXPECT_TRUE(registry.Counters("nothing_").empty());
  // The empty prefix matches every counter family, the process CPU counter included.
  EXPECT_EQ(registry.Counters("").size(), 4u);
}

TEST(MetricsTest, SerializeGraphiteWritesTaggedLines) {
  Registry registry;
  registry.AddCounter("test_events_total", "Events.").With({{"model", "a b"}}).Inc(3);
  registry.AddGauge("test_nan", "Skipped.").With({}).Set(std::numeric_limits<double>::quiet_NaN());
  const std::string text = registry.SerializeGraphite("mm", 1700000000);
  EXPECT_THAT(text, HasSubstr("mm.test_events_total;model=a_b 3 1700000000\n"));
  EXPECT_THAT(text, Not(HasSubstr("test_nan")));
}

TEST(MetricsTest, ConcurrentUpdatesAndSerializeFromTwoThreads) {
  Registry registry;
  CounterFamily family = registry.AddCounter("test_concurrent_total", "Concurrent.");
  HistogramFamily latency = registry.AddHistogram("test_concurrent_seconds", "Latency.", {1.0});
  constexpr int kPerThread = 20000;
  auto work = [&](const std::string& model) {
    for (int i = 0; i < kPerThread; ++i) {
      family.With({{"model", "shared"}}).Inc();
      family.With({{"model", model}}).Inc();
      latency.With({}).Observe(0.5);
      if (i % 1000 == 0) registry.Serialize();
    }
  };
  std::thread first(work, "first");
  std::thread second(work, "second");
  first.join();
  second.join();
  EXPECT_DOUBLE_EQ(family.With({{"model", "shared"}}).Value(), 2.0 * kPerThread);
  EXPECT_DOUBLE_EQ(family.With({{"model", "first"}}).Value(), kPerThread);
  EXPECT_DOUBLE_EQ(family.With({{"model", "second"}}).Value(), kPerThread);
  EXPECT_THAT(registry.Serialize(),
              HasSubstr("test_concurrent_seconds_bucket{le=\"+Inf\"} 40000\n"));
}

}  // namespace
}  // namespace modelmon::metrics
