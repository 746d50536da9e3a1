// prometheus-cpp is used in this module only.

#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace modelmon::metrics {

void Counter::Inc(double v) const {
  if (c_ != nullptr) c_->Increment(v);
}
double Counter::Value() const { return c_ != nullptr ? c_->Value() : 0.0; }

void Gauge::Set(double v) const {
  if (g_ != nullptr) g_->Set(v);
}
double Gauge::Value() const { return g_ != nullptr ? g_->Value() : 0.0; }

void Histogram::Observe(double v) const {
  if (h_ != nullptr) h_->Observe(v);
}

Counter CounterFamily::With(const Labels& labels) const { return Counter(&f_->Add(labels)); }

Gauge GaugeFamily::With(const Labels& labels) const { return Gauge(&f_->Add(labels)); }

void GaugeFamily::Remove(Gauge gauge) const {
  if (gauge.g_ != nullptr) f_->Remove(gauge.g_);
}

Histogram HistogramFamily::With(const Labels& labels) const {
  return Histogram(&f_->Add(labels, prometheus::Histogram::BucketBoundaries(buckets_)));
}

namespace {

double ReadProcessStartTime() {
  // Field 22 of /proc/self/stat is the start time in clock ticks since boot.
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = content.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  double start_ticks = 0;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) start_ticks = std::stod(field);
  }
  std::ifstream uptime_file("/proc/uptime");
  double uptime = 0;
  uptime_file >> uptime;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return now - uptime + start_ticks / ticks;
}

}  // namespace

Registry::Registry() : registry_(std::make_shared<prometheus::Registry>()) {
  auto gauge = [&](const char* name, const char* help) {
    return GaugeFamily(&prometheus::BuildGauge().Name(name).Help(help).Register(*registry_))
        .With({});
  };
  resident_ = gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  virtual_ = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  open_fds_ = gauge("process_open_fds", "Number of open file descriptors.");
  max_fds_ = gauge("process_max_fds", "Maximum number of open file descriptors.");
  start_time_ =
      gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
  cpu_seconds_ = CounterFamily(&prometheus::BuildCounter()
                                    .Name("process_cpu_seconds_total")
                                    .Help("Total user and system CPU time spent in seconds.")
                                    .Register(*registry_))
                     .With({});
  start_time_.Set(ReadProcessStartTime());
}

Registry::~Registry() = default;

CounterFamily Registry::AddCounter(const std::string& name, const std::string& help) {
  auto* family = &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
  counters_[name] = family;
  return CounterFamily(family);
}

std::vector<Registry::CounterValue> Registry::Counters(const std::string& prefix) const {
  std::vector<CounterValue> out;
  for (const prometheus::MetricFamily& family : registry_->Collect()) {
    if (family.type != prometheus::MetricType::Counter) continue;
    if (family.name.compare(0, prefix.size(), prefix) != 0) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      CounterValue v;
      v.name = family.name;
      for (const auto& l : m.label) v.labels[l.name] = l.value;
      v.value = m.counter.value;
      out.push_back(std::move(v));
    }
  }
  return out;
}

bool Registry::RaiseCounter(const std::string& name, const Labels& labels, double value) {
  auto it = counters_.find(name);
  if (it == counters_.end() || !std::isfinite(value)) return false;
  try {
    prometheus::Counter& counter = it->second->Add(labels);
    const double delta = value - counter.Value();
    if (delta > 0) counter.Increment(delta);
    return true;
  } catch (const std::exception&) {
    return false;  // Invalid label names.
  }
}

GaugeFamily Registry::AddGauge(const std::string& name, const std::string& help) {
  return GaugeFamily(&prometheus::BuildGauge().Name(name).Help(help).Register(*registry_));
}

HistogramFamily Registry::AddHistogram(const std::string& name, const std::string& help,
                                       std::vector<double> buckets) {
  return HistogramFamily(&prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_),
                         std::move(buckets));
}

std::string Registry::Serialize() const {
  {
    static std::mutex cpu_mutex;  // Serialises the read-modify-write of the CPU counter.
    std::lock_guard<std::mutex> lock(cpu_mutex);
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0) {
      auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
      };
      const double total = seconds(usage.ru_utime) + seconds(usage.ru_stime);
      const double delta = total - cpu_seconds_.Value();
      if (delta > 0) cpu_seconds_.Inc(delta);
    }
  }
  std::ifstream statm("/proc/self/statm");
  double pages_virtual = 0, pages_resident = 0;
  if (statm >> pages_virtual >> pages_resident) {
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    virtual_.Set(pages_virtual * page);
    resident_.Set(pages_resident * page);
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  open_fds_.Set(fds);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) max_fds_.Set(static_cast<double>(limit.rlim_cur));

  prometheus::TextSerializer serializer;
  std::ostringstream out;
  serializer.Serialize(out, registry_->Collect());
  return out.str();
}

namespace {

std::string GraphiteSafe(const std::string& text) {
  std::string out = text.empty() ? std::string("_") : text;
  for (char& c : out) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

}  // namespace

std::string Registry::SerializeGraphite(const std::string& prefix, int64_t unix_seconds) const {
  std::ostringstream out;
  out.precision(17);
  std::string ts(1, ' ');
  ts += std::to_string(unix_seconds);
  ts += '\n';
  auto line = [&](const std::string& name, const prometheus::ClientMetric& m, double value) {
    if (!std::isfinite(value)) return;
    out << prefix << '.' << name;
    for (const auto& l : m.label) out << ';' << l.name << '=' << GraphiteSafe(l.value);
    out << ' ' << value << ts;
  };
  for (const prometheus::MetricFamily& family : registry_->Collect()) {
    for (const prometheus::ClientMetric& m : family.metric) {
      switch (family.type) {
        case prometheus::MetricType::Counter:
          line(family.name, m, m.counter.value);
          break;
        case prometheus::MetricType::Gauge:
          line(family.name, m, m.gauge.value);
          break;
        case prometheus::MetricType::Histogram:
          line(family.name + "_count", m, static_cast<double>(m.histogram.sample_count));
          line(family.name + "_sum", m, m.histogram.sample_sum);
          break;
        default:
          break;
      }
    }
  }
  return out.str();
}

}  // namespace modelmon::metrics
