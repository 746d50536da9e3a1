#ifndef MODELMON_STATE_TARGET_DRIFT_H_
#define MODELMON_STATE_TARGET_DRIFT_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detectors/drift.h"
#include "ingest/reference_reader.h"
#include "ingest/schema.h"
#include "state/performance_windows.h"

namespace modelmon::state {

// One drift test of a target-drift comparison, before its threshold is applied. Plain data.
struct TargetTestOutcome {
  std::string test;
  double statistic = 0;
  std::optional<double> p_value;
};

// One target-drift comparison: `column` is kLabelFeature (joined labels against the reference
// labels) or kPredictionVsLabelFeature (joined predictions against the same joined labels, which
// serve as its reference). Plain data.
struct TargetComparison {
  std::string column;
  FeatureType type = FeatureType::kCategorical;
  size_t window_samples = 0;
  size_t reference_samples = 0;
  std::vector<TargetTestOutcome> tests;
};

// Target drift of one model: the distribution of joined ground-truth labels (class shares for
// classifiers, values for regression) against the reference's labels, with the drift tests of
// drift.target.tests (default: the model's tests for the label's type; "auto" resolved by the
// reference size as for features), and optionally the joined predictions against the joined
// labels. Immutable after Fit; safe for concurrent const use.
class FittedTarget {
 public:
  // The reference label distribution. Returns a fit without a label reference (only the
  // prediction-vs-label comparison) when the reference has no labels; *reason then says so.
  static std::shared_ptr<const FittedTarget> Fit(
      const ingest::ModelSchema& schema, const std::vector<ingest::ReferenceOutputs>& reference,
      std::string* reason);

  // The comparisons over the joined pairs (oldest first). A comparison with an empty side is
  // omitted. O(n log n + tests).
  std::vector<TargetComparison> Evaluate(const std::vector<JoinedPair>& pairs) const;

  bool has_label_reference() const { return label_categories_ || label_numbers_; }

 private:
  FittedTarget() = default;
  std::vector<detectors::DriftTest> TestsFor(size_t reference_size) const;

  const ingest::ModelSchema* schema_ = nullptr;
  std::vector<std::string> test_names_;
  std::shared_ptr<const detectors::CategoricalReference> label_categories_;
  std::shared_ptr<const detectors::NumericalReference> label_numbers_;
};

}  // namespace modelmon::state

#endif  // MODELMON_STATE_TARGET_DRIFT_H_
