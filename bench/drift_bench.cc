// Drift evaluation cost: one evaluation of every test over a 10k reference and a 10k window, per
// feature type and for the 15 numerical + 5 categorical composite, plus the per-event Add/Remove
// cost. Data comes from files written by bench/drift_data.py so that the scipy baseline
// (bench/scipy_drift_baseline.py) computes the same numbers on the same data;
// bench/run_benchmarks.sh runs both and prints the ratio.
//
// Usage: modelmon_drift_bench --data DIR [google-benchmark flags]

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
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

// Column j of a file with `columns` whitespace-separated values per row.
template <typename T>
std::vector<T> Column(const std::vector<T>& cells, size_t columns, size_t j) {
  std::vector<T> out;
  for (size_t i = j; i < cells.size(); i += columns) out.push_back(cells[i]);
  return out;
}

// The composite: one evaluation of ks + psi + wasserstein over 15 numerical features and
// chi2 + psi over 5 categorical features, 10k reference and 10k window each (composite_*.txt from
// bench/drift_data.py; scipy_drift_baseline.py computes the same on the same files).
void BM_Composite15Numerical5Categorical(benchmark::State& state) {
  constexpr size_t kNumerical = 15;
  constexpr size_t kCategorical = 5;
  const auto num_ref = ReadNumbers("composite_num_ref.txt");
  const auto num_cur = ReadNumbers("composite_num_cur.txt");
  const auto cat_ref = ReadWords("composite_cat_ref.txt");
  const auto cat_cur = ReadWords("composite_cat_cur.txt");
  std::vector<NumericalWindowState> numerical;
  for (size_t j = 0; j < kNumerical; ++j) {
    numerical.emplace_back(NumericalReference::Build(Column(num_ref, kNumerical, j), 10));
    for (double v : Column(num_cur, kNumerical, j)) numerical.back().Add(v);
  }
  std::vector<CategoricalWindowState> categorical;
  for (size_t j = 0; j < kCategorical; ++j) {
    const auto ref = CategoricalReference::Build(Counts(Column(cat_ref, kCategorical, j)), 50);
    categorical.emplace_back(ref);
    for (const auto& w : Column(cat_cur, kCategorical, j)) categorical.back().Add(ref->BucketOf(w));
  }
  for (auto _ : state) {
    for (const auto& window : numerical) {
      for (DriftTest t : {DriftTest::kKs, DriftTest::kPsi, DriftTest::kWasserstein}) {
        benchmark::DoNotOptimize(window.Evaluate(t));
      }
    }
    for (const auto& window : categorical) {
      for (DriftTest t : {DriftTest::kChi2, DriftTest::kPsi}) {
        benchmark::DoNotOptimize(window.Evaluate(t));
      }
    }
  }
}
BENCHMARK(BM_Composite15Numerical5Categorical)->Unit(benchmark::kMicrosecond);

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
