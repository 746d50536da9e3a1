#include "state/target_drift.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace modelmon::state {
namespace {

using detectors::DriftTest;

TargetComparison Compare(const std::vector<DriftTest>& tests, const std::string& column,
                         FeatureType type, size_t reference_size, size_t window_size,
                         const auto& window_state) {
  TargetComparison out;
  out.column = column;
  out.type = type;
  out.reference_samples = reference_size;
  out.window_samples = window_size;
  for (DriftTest t : tests) {
    const detectors::DriftOutcome o = window_state.Evaluate(t);
    out.tests.push_back({std::string(detectors::DriftTestName(t)), o.statistic, o.p_value});
  }
  return out;
}

}  // namespace

std::shared_ptr<const FittedTarget> FittedTarget::Fit(
    const ingest::ModelSchema& schema, const std::vector<ingest::ReferenceOutputs>& reference,
    std::string* reason) {
  std::shared_ptr<FittedTarget> fit(new FittedTarget());
  fit->schema_ = &schema;
  const ModelConfig& config = schema.config();
  fit->test_names_ = config.drift.target.tests;
  if (fit->test_names_.empty()) {
    fit->test_names_ =
        schema.is_classification() ? config.drift.categorical_tests : config.drift.numerical_tests;
  }
  if (fit->test_names_.empty()) {
    fit->test_names_ = {std::string(detectors::kAutoDriftTest), "psi"};
  }
  if (schema.is_classification()) {
    std::vector<int64_t> counts(config.classes.size(), 0);
    int64_t total = 0;
    for (const ingest::ReferenceOutputs& o : reference) {
      if (o.label_class >= 0) {
        ++counts[static_cast<size_t>(o.label_class)];
        ++total;
      }
    }
    if (total > 0) {
      std::vector<std::pair<std::string, int64_t>> named;
      for (size_t c = 0; c < counts.size(); ++c) named.emplace_back(config.classes[c], counts[c]);
      fit->label_categories_ = detectors::CategoricalReference::Build(named, config.classes.size());
    }
  } else {
    std::vector<double> values;
    for (const ingest::ReferenceOutputs& o : reference) {
      if (std::isfinite(o.label_value)) values.push_back(o.label_value);
    }
    if (!values.empty()) {
      fit->label_numbers_ =
          detectors::NumericalReference::Build(std::move(values), config.drift.psi_bins);
    }
  }
  if (!fit->has_label_reference()) *reason = "the reference has no labels";
  return fit;
}

std::vector<DriftTest> FittedTarget::TestsFor(size_t reference_size) const {
  return detectors::ResolveDriftTests(test_names_, !schema_->is_classification(), reference_size);
}

std::vector<TargetComparison> FittedTarget::Evaluate(const std::vector<JoinedPair>& pairs) const {
  std::vector<TargetComparison> out;
  if (pairs.empty()) return out;
  const ModelConfig& config = schema_->config();
  const bool with_predictions = config.drift.target.prediction_vs_label;
  if (schema_->is_classification()) {
    const auto& classes = config.classes;
    if (label_categories_) {
      detectors::CategoricalWindowState window(label_categories_);
      for (const JoinedPair& p : pairs) {
        window.Add(
            label_categories_->BucketOf(classes[static_cast<size_t>(p.classification.label)]));
      }
      out.push_back(Compare(TestsFor(label_categories_->size()), kLabelFeature,
                            FeatureType::kCategorical, label_categories_->size(), pairs.size(),
                            window));
    }
    if (with_predictions) {
      std::vector<std::pair<std::string, int64_t>> counts;
      for (const std::string& c : classes) counts.emplace_back(c, 0);
      for (const JoinedPair& p : pairs)
        ++counts[static_cast<size_t>(p.classification.label)].second;
      auto labels = detectors::CategoricalReference::Build(counts, classes.size());
      detectors::CategoricalWindowState window(labels);
      for (const JoinedPair& p : pairs) {
        window.Add(labels->BucketOf(classes[static_cast<size_t>(p.classification.predicted)]));
      }
      out.push_back(Compare(TestsFor(labels->size()), kPredictionVsLabelFeature,
                            FeatureType::kCategorical, labels->size(), pairs.size(), window));
    }
    return out;
  }
  std::vector<double> truths, predictions;
  for (const JoinedPair& p : pairs) {
    truths.push_back(p.y_true);
    predictions.push_back(p.y_pred);
  }
  if (label_numbers_) {
    detectors::NumericalWindowState window(label_numbers_);
    window.Assign(truths);
    out.push_back(Compare(TestsFor(label_numbers_->size()), kLabelFeature, FeatureType::kNumerical,
                          label_numbers_->size(), window.size(), window));
  }
  if (with_predictions) {
    auto labels = detectors::NumericalReference::Build(truths, config.drift.psi_bins);
    detectors::NumericalWindowState window(labels);
    window.Assign(std::move(predictions));
    out.push_back(Compare(TestsFor(labels->size()), kPredictionVsLabelFeature,
                          FeatureType::kNumerical, labels->size(), window.size(), window));
  }
  return out;
}

}  // namespace modelmon::state
