#ifndef MODELMON_DETECTORS_DRIFT_TESTS_H_
#define MODELMON_DETECTORS_DRIFT_TESTS_H_

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The drift test vocabulary: every test name the configuration, the detectors and the published
// metrics speak, with its properties. Header-only constexpr data, so that any layer can read it
// without a link dependency on the detectors library. Thread-safe (immutable).

namespace modelmon::detectors {

enum class DriftTest { kKs, kChi2, kPsi, kWasserstein, kJensenShannon };
enum class FeatureKind { kNumerical, kCategorical };

struct DriftTestInfo {
  DriftTest test;
  std::string_view name;     // As written in the configuration and in the `test` metric label.
  bool p_value;              // Reports a p-value; drift is flagged below the threshold.
  bool numerical;            // Applies to numerical features.
  bool categorical;          // Applies to categorical features.
  double default_threshold;  // p-value tests: significance level; others: distance at or above.
};

// In DriftTest order; the configuration's error messages list the tests in this order.
inline constexpr DriftTestInfo kDriftTests[] = {
    {DriftTest::kKs, "ks", true, true, false, 0.05},
    {DriftTest::kChi2, "chi2", true, false, true, 0.05},
    {DriftTest::kPsi, "psi", false, true, true, 0.1},
    {DriftTest::kWasserstein, "wasserstein", false, true, false, 0.1},
    {DriftTest::kJensenShannon, "jensen_shannon", false, true, true, 0.1},
};

// Not a test: asks for ks / chi2 on references of at most kAutoReferenceLimit values,
// wasserstein / jensen_shannon above (Evidently's convention).
inline constexpr std::string_view kAutoDriftTest = "auto";
inline constexpr size_t kAutoReferenceLimit = 1000;

// The entry named `name` (case-sensitive); nullptr for any other string, "auto" included. O(5).
constexpr const DriftTestInfo* FindDriftTest(std::string_view name) {
  for (const DriftTestInfo& info : kDriftTests) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

constexpr const DriftTestInfo& DriftTestInfoOf(DriftTest test) {
  return kDriftTests[static_cast<int>(test)];
}

// "ks", "chi2", "psi", "wasserstein", "jensen_shannon".
constexpr std::string_view DriftTestName(DriftTest test) { return DriftTestInfoOf(test).name; }

// Inverse of DriftTestName; nullopt for any other string (case-sensitive).
constexpr std::optional<DriftTest> ParseDriftTest(std::string_view name) {
  const DriftTestInfo* info = FindDriftTest(name);
  if (info == nullptr) return std::nullopt;
  return info->test;
}

// Tests that report a p-value: ks and chi2.
constexpr bool HasPValue(DriftTest test) { return DriftTestInfoOf(test).p_value; }

// Numerical: ks, psi, wasserstein, jensen_shannon. Categorical: chi2, psi, jensen_shannon.
constexpr bool Supports(DriftTest test, FeatureKind kind) {
  const DriftTestInfo& info = DriftTestInfoOf(test);
  return kind == FeatureKind::kNumerical ? info.numerical : info.categorical;
}

// The threshold a test gets when the configuration sets none; names outside the table get the
// distance default (0.1).
constexpr double DefaultDriftThreshold(std::string_view name) {
  const DriftTestInfo* info = FindDriftTest(name);
  return info != nullptr ? info->default_threshold : 0.1;
}

// Whether `name` is a test that reports a p-value; false for names outside the table.
constexpr bool ReportsPValue(std::string_view name) {
  const DriftTestInfo* info = FindDriftTest(name);
  return info != nullptr && info->p_value;
}

namespace internal {
constexpr bool DriftTestsInEnumOrder() {
  int i = 0;
  for (const DriftTestInfo& info : kDriftTests) {
    if (static_cast<int>(info.test) != i++) return false;
  }
  return true;
}
}  // namespace internal
static_assert(internal::DriftTestsInEnumOrder(), "kDriftTests is indexed by DriftTest");

// The tests named by `names` (validated test names or "auto"), for a numerical or categorical
// column whose reference holds reference_size values: "auto" resolved by kAutoReferenceLimit,
// duplicates dropped, order kept. A name that is not a test is skipped.
inline std::vector<DriftTest> ResolveDriftTests(const std::vector<std::string>& names,
                                                bool numerical, size_t reference_size) {
  std::vector<DriftTest> out;
  for (const std::string& name : names) {
    std::optional<DriftTest> t;
    if (name == kAutoDriftTest) {
      const bool small = reference_size <= kAutoReferenceLimit;
      if (numerical) {
        t = small ? DriftTest::kKs : DriftTest::kWasserstein;
      } else {
        t = small ? DriftTest::kChi2 : DriftTest::kJensenShannon;
      }
    } else {
      t = ParseDriftTest(name);
    }
    if (t && std::find(out.begin(), out.end(), *t) == out.end()) out.push_back(*t);
  }
  return out;
}

}  // namespace modelmon::detectors

#endif  // MODELMON_DETECTORS_DRIFT_TESTS_H_
