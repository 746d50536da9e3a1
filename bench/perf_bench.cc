// Performance-window cost: one joined pair entering and the oldest leaving a full window (the
// per-event cost of exact sliding metrics, ROC AUC included), and one Compute(), for windows of
// 1e3, 1e4 and 1e5 pairs. bench/sklearn_perf_baseline.py times scikit-learn recomputing the same
// window on the same data; bench/run_benchmarks.sh prints both.
//
// Usage: modelmon_perf_bench --data DIR [google-benchmark flags]

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench_main.h"
#include "performance/classification.h"
#include "performance/regression.h"

namespace {

using modelmon::performance::ClassificationSample;
using modelmon::performance::ClassificationWindow;
using modelmon::performance::RegressionWindow;

const std::vector<ClassificationSample>& Binary() {
  static const std::vector<ClassificationSample> data = [] {
    std::ifstream in(modelmon::bench::DataDir() + "/perf_binary.txt");
    std::vector<ClassificationSample> out;
    ClassificationSample s;
    while (in >> s.label >> s.predicted >> s.score) out.push_back(s);
    if (out.empty()) {
      std::fprintf(stderr, "no data in %s; run bench/drift_data.py first\n",
                   modelmon::bench::DataDir().c_str());
      std::exit(2);
    }
    return out;
  }();
  return data;
}

const std::vector<std::pair<double, double>>& Regression() {
  static const std::vector<std::pair<double, double>> data = [] {
    std::ifstream in(modelmon::bench::DataDir() + "/perf_regression.txt");
    std::vector<std::pair<double, double>> out;
    double y, p;
    while (in >> y >> p) out.emplace_back(y, p);
    return out;
  }();
  return data;
}

void BM_ClassificationSlide(benchmark::State& state) {
  const auto w = static_cast<size_t>(state.range(0));
  const auto& data = Binary();
  ClassificationWindow window(2, 1);
  for (size_t i = 0; i < w; ++i) window.Add(data[i]);
  size_t head = 0, next = w;
  for (auto _ : state) {
    window.Remove(data[head]);
    window.Add(data[next]);
    head = (head + 1) % data.size();
    next = (next + 1) % data.size();
    if (next == 0) {  // Wrap: restart the window so Remove always matches an Add.
      state.PauseTiming();
      window = ClassificationWindow(2, 1);
      for (size_t i = 0; i < w; ++i) window.Add(data[i]);
      head = 0;
      next = w;
      state.ResumeTiming();
    }
  }
}
BENCHMARK(BM_ClassificationSlide)->Arg(1000)->Arg(10000)->Arg(100000);

void BM_ClassificationCompute(benchmark::State& state) {
  const auto w = static_cast<size_t>(state.range(0));
  ClassificationWindow window(2, 1);
  for (size_t i = 0; i < w; ++i) window.Add(Binary()[i]);
  for (auto _ : state) benchmark::DoNotOptimize(window.Compute());
}
BENCHMARK(BM_ClassificationCompute)->Arg(1000)->Arg(10000)->Arg(100000);

void BM_RegressionSlide(benchmark::State& state) {
  const auto w = static_cast<size_t>(state.range(0));
  const auto& data = Regression();
  RegressionWindow window;
  for (size_t i = 0; i < w; ++i) window.Add(data[i].first, data[i].second);
  size_t head = 0, next = w;
  for (auto _ : state) {
    window.Remove(data[head].first, data[head].second);
    window.Add(data[next].first, data[next].second);
    head = (head + 1) % data.size();
    next = (next + 1) % data.size();
    if (next == 0) {
      state.PauseTiming();
      window = RegressionWindow();
      for (size_t i = 0; i < w; ++i) window.Add(data[i].first, data[i].second);
      head = 0;
      next = w;
      state.ResumeTiming();
    }
  }
}
BENCHMARK(BM_RegressionSlide)->Arg(1000)->Arg(10000)->Arg(100000);

}  // namespace

int main(int argc, char** argv) { return modelmon::bench::Main(argc, argv); }
