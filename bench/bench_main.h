#ifndef MODELMON_BENCH_BENCH_MAIN_H_
#define MODELMON_BENCH_BENCH_MAIN_H_

#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

namespace modelmon::bench {

// Directory of the data files written by bench/drift_data.py (--data DIR).
inline std::string& DataDir() {
  static std::string dir = "bench-data";
  return dir;
}

// main() of the benchmark binaries: takes --data DIR out of argv, then runs Google Benchmark.
inline int Main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0) {
      DataDir() = argv[i + 1];
      for (int j = i; j + 2 < argc; ++j) argv[j] = argv[j + 2];
      argc -= 2;
      break;
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace modelmon::bench

#endif  // MODELMON_BENCH_BENCH_MAIN_H_
