#ifndef MODELMON_METRICS_METRICS_H_
#define MODELMON_METRICS_METRICS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

// prometheus-cpp stays inside src/metrics: the rest of the daemon sees these handles only.
namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace modelmon::metrics {

using Labels = std::map<std::string, std::string>;

// Handles to one time series. Cheap to copy; valid while the owning Registry lives and the series
// has not been removed. Updates are thread-safe (atomic). A default-constructed handle ignores
// updates.
class Counter {
 public:
  Counter() = default;
  explicit Counter(prometheus::Counter* c) : c_(c) {}
  void Inc(double v = 1.0) const;
  double Value() const;

 private:
  prometheus::Counter* c_ = nullptr;
};

class Gauge {
 public:
  Gauge() = default;
  explicit Gauge(prometheus::Gauge* g) : g_(g) {}
  void Set(double v) const;
  double Value() const;

 private:
  friend class GaugeFamily;
  prometheus::Gauge* g_ = nullptr;
};

class Histogram {
 public:
  Histogram() = default;
  explicit Histogram(prometheus::Histogram* h) : h_(h) {}
  void Observe(double v) const;

 private:
  prometheus::Histogram* h_ = nullptr;
};

// A metric family: one name, one help text, series keyed by labels. Thread-safe.
// Label values must come from the configuration (bounded), never from raw input.
class CounterFamily {
 public:
  CounterFamily() = default;
  explicit CounterFamily(prometheus::Family<prometheus::Counter>* f) : f_(f) {}
  Counter With(const Labels& labels) const;  // Creates the series on first use.

 private:
  prometheus::Family<prometheus::Counter>* f_ = nullptr;
};

class GaugeFamily {
 public:
  GaugeFamily() = default;
  explicit GaugeFamily(prometheus::Family<prometheus::Gauge>* f) : f_(f) {}
  Gauge With(const Labels& labels) const;
  // Removes the series (it disappears from /metrics); the handle becomes invalid.
  void Remove(Gauge gauge) const;

 private:
  prometheus::Family<prometheus::Gauge>* f_ = nullptr;
};

class HistogramFamily {
 public:
  HistogramFamily() = default;
  HistogramFamily(prometheus::Family<prometheus::Histogram>* f, std::vector<double> buckets)
      : f_(f), buckets_(std::move(buckets)) {}
  Histogram With(const Labels& labels) const;

 private:
  prometheus::Family<prometheus::Histogram>* f_ = nullptr;
  std::vector<double> buckets_;
};

// Owns the registry of every metric the daemon exports, and renders it in the Prometheus text
// format 0.0.4. Thread-safe. Help strings are constants (prometheus-cpp 1.0 does not escape HELP).
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily AddCounter(const std::string& name, const std::string& help);
  GaugeFamily AddGauge(const std::string& name, const std::string& help);
  HistogramFamily AddHistogram(const std::string& name, const std::string& help,
                               std::vector<double> buckets);

  // One counter series, for snapshots.
  struct CounterValue {
    std::string name;
    Labels labels;
    double value = 0;
  };
  // Every series of the counter families whose name starts with `prefix`. O(series).
  std::vector<CounterValue> Counters(const std::string& prefix) const;
  // Raises the series (name, labels) of a counter family added by AddCounter() to at least `value`
  // (creating the series), so that a restored count is never counted twice. False, changing
  // nothing, for an unknown family, invalid labels or a non-finite value.
  bool RaiseCounter(const std::string& name, const Labels& labels, double value);

  // The text exposition of every family, with process metrics refreshed first.
  std::string Serialize() const;

  // Every counter and gauge (histograms as _count and _sum) in the Graphite plaintext protocol with
  // tags, one line each: "PREFIX.NAME;label=value;... VALUE UNIX_SECONDS". Tag values are reduced
  // to [A-Za-z0-9_.:-] (others become _); NaN and infinite values are skipped.
  std::string SerializeGraphite(const std::string& prefix, int64_t unix_seconds) const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  // Families added by AddCounter(), by name (written at registration, before concurrent use).
  std::map<std::string, prometheus::Family<prometheus::Counter>*> counters_;
  // Process metrics, as the standard Prometheus process collectors export them; refreshed from
  // /proc at each Serialize().
  Gauge resident_, virtual_, open_fds_, max_fds_, start_time_;
  Counter cpu_seconds_;
};

inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace modelmon::metrics

#endif  // MODELMON_METRICS_METRICS_H_
