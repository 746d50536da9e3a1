#ifndef MODELMON_FUZZ_FUZZ_COMMON_H_
#define MODELMON_FUZZ_FUZZ_COMMON_H_

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "modelmon/config.h"

namespace modelmon::fuzz {

// Reports a broken invariant and aborts, so that libFuzzer records the input as a crash.
[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "modelmon fuzz invariant violated: %s\n", what);
  std::abort();
}

// Runs one fuzz input; an exception escaping `run` breaks the targets' never-throws contract and is
// reported as a crash with `what`. Returns 0, as LLVMFuzzerTestOneInput must.
template <typename Run>
int Guarded(Run&& run, const char* what) {
  try {
    run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception: %s\n", e.what());
    Fail(what);
  }
  return 0;
}

// Loads a config that the target's harness itself depends on; aborts when it does not validate
// (the harness is broken, not the input). Not thread-safe; call once from a static initialiser.
inline Config LoadHarnessConfig(const char* yaml) {
  ConfigResult result = LoadConfigString(yaml);
  if (!result.ok()) {
    for (const std::string& e : result.errors) std::fprintf(stderr, "config: %s\n", e.c_str());
    Fail("the harness config does not load");
  }
  return *result.config;
}

// Models shared by the event parser and service harnesses: binary classification with a
// categorical feature, multiclass, and regression; all capture their reference.
inline constexpr const char* kHarnessYaml = R"(
server:
  max_batch_events: 64
  auth:
    admin_token: "fuzz-admin-token-0123456789"
evaluation_interval: 1s
alerts:
  - name: FuzzDrift
    metric: drift_p_value
    op: "<"
    threshold: 0.5
    clear_threshold: 0.6
    for: 0s
    min_samples: 5
  - name: FuzzAccuracy
    metric: accuracy
    model_version: __all__
    op: "<"
    threshold: 0.9
models:
  - name: binary
    task: binary_classification
    classes: ["0", "1"]
    positive_class: "1"
    features:
      - {name: amount, type: numerical}
      - {name: country, type: categorical}
    window: {size: 40}
    reference: {capture: 10}
    drift:
      numerical_tests: [ks, psi, wasserstein, jensen_shannon]
      categorical_tests: [chi2, psi, jensen_shannon]
      min_samples: 5
      max_categories: 4
    performance:
      window_size: 20
      max_pending: 50
      max_pending_labels: 50
      experiment: {control: v1, challenger: v2}
    max_versions: 3
  - name: multi
    task: multiclass_classification
    classes: [a, b, c]
    features:
      - {name: x, type: numerical}
    window: {size: 30}
    reference: {capture: 8}
    drift: {min_samples: 5}
    performance: {window_size: 20, max_pending: 50, max_pending_labels: 50}
  - name: reg
    task: regression
    features:
      - {name: x, type: numerical}
      - {name: c, type: categorical}
    window: {size: 30}
    reference: {capture: 8}
    drift: {min_samples: 5, bonferroni: true}
    performance: {window_size: 20, max_pending: 50, max_pending_labels: 50}
)";

}  // namespace modelmon::fuzz

#endif  // MODELMON_FUZZ_FUZZ_COMMON_H_
