// Drift evaluation cost: one evaluation of every test over a 10k reference and a 10k window, per
// feature type, plus the per-event Add/Remove cost. Data comes from files written by
// bench/drift_data.py so that the scipy baseline (bench/scipy_drift_baseline.py) computes the same
// numbers on the same data; bench/run_drift_bench.sh runs both and prints the ratio.
//
// Usage: modelmon_drift_bench --data DIR [google-benchmark flags]

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_main.h"
#include "detectors/drift.h"

namespace {

using modelmon::detectors::CategoricalReference;
using modelmon::detectors::CategoricalWindowState;
using modelmon::detectors::DriftTest;
using modelmon::detectors::NumericalReference;
using modelmon::detectors::NumericalWindowState;

std::vector<double> ReadNumbers(const std::string& name) {
  std::ifstream in(modelmon::bench::DataDir() + "/" + name);
  std::vector<double> out;
  double v;
  while (in >> v) out.push_back(v);
  if (out.empty()) {
    std::fprintf(stderr, "no data in %s/%s; run bench/drift_data.py first\n",
                 modelmon::bench::DataDir().c_str(), name.c_str());
    std::exit(2);
  }
  return out;
}

std::vector<std::string> ReadWords(const std::string& name) {
  std::ifstream in(modelmon::bench::DataDir() + "/" + name);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

void BM_NumericalEvaluateAllTests(benchmark::State& state) {
  const auto ref = NumericalReference::Build(ReadNumbers("num_ref.txt"), 10);
  NumericalWindowState window(ref);
  for (double v : ReadNumbers("num_cur.txt")) window.Add(v);
  for (auto _ : state) {
    for (DriftTest t :
         {DriftTest::kKs, DriftTest::kPsi, DriftTest::kWasserstein, DriftTest::kJensenShannon}) {
      benchmark::DoNotOptimize(window.Evaluate(t));
    }
  }
}
BENCHMARK(BM_NumericalEvaluateAllTests)->Unit(benchmark::kMicrosecond);

void BM_NumericalEvaluate(benchmark::State& state) {
  const auto test = static_cast<DriftTest>(state.range(0));
  const auto ref = NumericalReference::Build(ReadNumbers("num_ref.txt"), 10);
  NumericalWindowState window(ref);
  for (double v : ReadNumbers("num_cur.txt")) window.Add(v);
  state.SetLabel(std::string(modelmon::detectors::DriftTestName(test)));
  for (auto _ : state) benchmark::DoNotOptimize(window.Evaluate(test));
}
BENCHMARK(BM_NumericalEvaluate)
    ->Arg(static_cast<int>(DriftTest::kKs))
    ->Arg(static_cast<int>(DriftTest::kPsi))
    ->Arg(static_cast<int>(DriftTest::kWasserstein))
    ->Arg(static_cast<int>(DriftTest::kJensenShannon))
    ->Unit(benchmark::kMicrosecond);

std::vector<std::pair<std::string, int64_t>> Counts(const std::vector<std::string>& words) {
  std::map<std::string, int64_t> counts;
  for (const auto& w : words) ++counts[w];
  return {counts.begin(), counts.end()};
}

void BM_CategoricalEvaluateAllTests(benchmark::State& state) {
  const auto ref = CategoricalReference::Build(Counts(ReadWords("cat_ref.txt")), 50);
  CategoricalWindowState window(ref);
  for (const auto& w : ReadWords("cat_cur.txt")) window.Add(ref->BucketOf(w));
  for (auto _ : state) {
    for (DriftTest t : {DriftTest::kChi2, DriftTest::kPsi, DriftTest::kJensenShannon}) {
      benchmark::DoNotOptimize(window.Evaluate(t));
    }
  }
}
BENCHMARK(BM_CategoricalEvaluateAllTests)->Unit(benchmark::kMicrosecond);

// One event entering and one leaving a full 10k window: the per-event cost of drift tracking.
void BM_NumericalSlide(benchmark::State& state) {
  const auto ref = NumericalReference::Build(ReadNumbers("num_ref.txt"), 10);
  const auto cur = ReadNumbers("num_cur.txt");
  NumericalWindowState window(ref);
  for (double v : cur) window.Add(v);
  size_t i = 0;
  for (auto _ : state) {
    window.Remove(cur[i]);
    window.Add(cur[i]);
    i = (i + 1) % cur.size();
  }
}
BENCHMARK(BM_NumericalSlide);

}  // namespace

int main(int argc, char** argv) { return modelmon::bench::Main(argc, argv); }
