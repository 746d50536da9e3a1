#include "state/performance_windows.h"

#include <cmath>

#include "performance/significance.h"

namespace modelmon::state {
namespace {

void SetOrRemove(const metrics::GaugeFamily& family, const metrics::Labels& labels,
                 std::optional<double> value) {
  if (value && std::isfinite(*value)) {
    family.With(labels).Set(*value);
  } else {
    family.Remove(family.With(labels));
  }
}

}  // namespace

std::map<std::string, double> HeadlineValues(const PerformanceResult& r, bool binary) {
  std::map<std::string, double> v;
  if (r.samples == 0) return v;
  if (r.classification) {
    const auto& c = *r.classification;
    v["accuracy"] = c.accuracy;
    v["precision"] = binary ? c.precision : c.macro_precision;
    v["recall"] = binary ? c.recall : c.macro_recall;
    v["f1"] = binary ? c.f1 : c.macro_f1;
    if (c.roc_auc) v["roc_auc"] = *c.roc_auc;
    if (c.log_loss) v["log_loss"] = *c.log_loss;
  } else if (r.regression) {
    const auto& g = *r.regression;
    v["mae"] = g.mae;
    v["mse"] = g.mse;
    v["rmse"] = g.rmse;
    if (g.r2) v["r2"] = *g.r2;
    v["mape"] = g.mape;
    v["mean_error"] = g.mean_error;
  }
  return v;
}

struct PerformanceWindows::Window {
  std::deque<JoinedPair> pairs;
  std::optional<performance::ClassificationWindow> classification;
  std::optional<performance::RegressionWindow> regression;

  void Push(JoinedPair pair) {
    if (classification) {
      classification->Add(pair.classification);
    } else {
      regression->Add(pair.y_true, pair.y_pred);
    }
    pairs.push_back(std::move(pair));
  }
  void Pop() {
    const JoinedPair& p = pairs.front();
    if (classification) {
      classification->Remove(p.classification);
    } else {
      regression->Remove(p.y_true, p.y_pred);
    }
    pairs.pop_front();
  }
};

PerformanceWindows::PerformanceWindows(const ingest::ModelSchema& schema, DaemonMetrics* metrics)
    : schema_(schema), metrics_(metrics), baseline_(schema.config().performance.baseline) {
  WindowFor(kAllVersions);
  for (const auto& [metric, value] : baseline_) {
    metrics_->baseline.With({{"model", schema_.name()}, {"metric", metric}}).Set(value);
  }
}

PerformanceWindows::~PerformanceWindows() = default;

PerformanceWindows::Window& PerformanceWindows::WindowFor(const std::string& version) {
  auto& slot = windows_[version];
  if (!slot) {
    slot = std::make_unique<Window>();
    if (schema_.is_classification()) {
      const auto k = static_cast<int32_t>(schema_.config().classes.size());
      std::optional<int32_t> positive;
      if (schema_.task() == Task::kBinaryClassification) positive = schema_.positive_class();
      slot->classification.emplace(k, positive);
    } else {
      slot->regression.emplace();
    }
  }
  return *slot;
}

void PerformanceWindows::Add(const std::string& version, JoinedPair pair) {
  const size_t limit = schema_.config().performance.window_size;
  for (Window* w : {&WindowFor(kAllVersions), &WindowFor(version)}) {
    w->Push(pair);
    while (w->pairs.size() > limit) w->Pop();
  }
}

void PerformanceWindows::ExpireBefore(std::chrono::steady_clock::time_point cutoff) {
  for (auto& [version, w] : windows_) {
    while (!w->pairs.empty() && w->pairs.front().joined_at < cutoff) w->Pop();
  }
}

void PerformanceWindows::Publish() {
  results_.clear();
  for (const auto& [version, w] : windows_) {
    PerformanceResult r;
    PublishWindow(version, *w, &r);
    results_.push_back(std::move(r));
  }
  PublishExperiment();
}

void PerformanceWindows::PublishWindow(const std::string& version, const Window& w,
                                       PerformanceResult* out) {
  const std::string& model = schema_.name();
  const metrics::Labels labels{{"model", model}, {"model_version", version}};
  out->model_version = version;
  out->samples = w.pairs.size();
  metrics_->perf_samples.With(labels).Set(static_cast<double>(out->samples));
  const bool binary = schema_.task() == Task::kBinaryClassification;
  const bool have = out->samples > 0;
  auto opt = [&](double v) { return have ? std::optional<double>(v) : std::nullopt; };
  if (w.classification) {
    out->classification = w.classification->Compute();
    const auto& c = *out->classification;
    SetOrRemove(metrics_->accuracy, labels, opt(c.accuracy));
    auto averaged = [&](const metrics::GaugeFamily& family, double bin, double macro, double micro,
                        double weighted) {
      auto with = [&](const char* average) {
        metrics::Labels l = labels;
        l["average"] = average;
        return l;
      };
      if (binary) SetOrRemove(family, with("binary"), opt(bin));
      SetOrRemove(family, with("macro"), opt(macro));
      SetOrRemove(family, with("micro"), opt(micro));
      SetOrRemove(family, with("weighted"), opt(weighted));
    };
    averaged(metrics_->precision, c.precision, c.macro_precision, c.micro_precision,
             c.weighted_precision);
    averaged(metrics_->recall, c.recall, c.macro_recall, c.micro_recall, c.weighted_recall);
    averaged(metrics_->f1, c.f1, c.macro_f1, c.micro_f1, c.weighted_f1);
    const auto& classes = schema_.config().classes;
    for (size_t k = 0; k < classes.size() && k < c.per_class.size(); ++k) {
      metrics::Labels l = labels;
      l["class"] = classes[k];
      SetOrRemove(metrics_->class_precision, l, opt(c.per_class[k].precision));
      SetOrRemove(metrics_->class_recall, l, opt(c.per_class[k].recall));
      SetOrRemove(metrics_->class_f1, l, opt(c.per_class[k].f1));
    }
    SetOrRemove(metrics_->roc_auc, labels, c.roc_auc);
    SetOrRemove(metrics_->log_loss, labels, c.log_loss);
    if (binary) {
      SetOrRemove(metrics_->predicted_positive, labels, opt(c.predicted_positive_rate));
      SetOrRemove(metrics_->label_positive, labels, opt(c.label_positive_rate));
    }
    // The confusion matrix has K^2 series: published for all versions together only.
    if (version == kAllVersions) {
      for (size_t t = 0; t < classes.size(); ++t) {
        for (size_t p = 0; p < classes.size(); ++p) {
          metrics_->confusion
              .With({{"model", model},
                     {"model_version", version},
                     {"true_class", classes[t]},
                     {"predicted_class", classes[p]}})
              .Set(static_cast<double>(c.confusion[t * classes.size() + p]));
        }
      }
    }
  } else {
    out->regression = w.regression->Compute();
    const auto& g = *out->regression;
    SetOrRemove(metrics_->mae, labels, opt(g.mae));
    SetOrRemove(metrics_->mse, labels, opt(g.mse));
    SetOrRemove(metrics_->rmse, labels, opt(g.rmse));
    SetOrRemove(metrics_->r2, labels, g.r2);
    SetOrRemove(metrics_->mape, labels, opt(g.mape));
    SetOrRemove(metrics_->mean_error, labels, opt(g.mean_error));
  }
  // Baseline: configured, or the first full window of all versions.
  const auto values = HeadlineValues(*out, binary);
  if (version == kAllVersions && out->samples >= schema_.config().performance.window_size) {
    for (const auto& [metric, value] : values) {
      if (baseline_.emplace(metric, value).second) {
        metrics_->baseline.With({{"model", model}, {"metric", metric}}).Set(value);
      }
    }
  }
  for (const auto& [metric, base] : baseline_) {
    metrics::Labels l = labels;
    l["metric"] = metric;
    auto it = values.find(metric);
    SetOrRemove(metrics_->degradation, l,
                it == values.end() ? std::nullopt : std::optional<double>(it->second - base));
  }
}

void PerformanceWindows::PublishExperiment() {
  const PerformanceConfig& p = schema_.config().performance;
  if (p.experiment_control.empty()) return;
  ExperimentResult e;
  e.control = p.experiment_control;
  e.challenger = p.experiment_challenger;
  e.metric = schema_.is_classification() ? "accuracy" : "mae";
  const metrics::Labels labels{{"model", schema_.name()}, {"metric", e.metric}};
  auto a = windows_.find(e.control);
  auto b = windows_.find(e.challenger);
  if (a == windows_.end() || b == windows_.end() || a->second->pairs.size() < 2 ||
      b->second->pairs.size() < 2) {
    e.unavailable = "both versions need at least 2 joined pairs in their windows";
    metrics_->experiment_difference.Remove(metrics_->experiment_difference.With(labels));
    metrics_->experiment_p_value.Remove(metrics_->experiment_p_value.With(labels));
    experiment_ = e;
    return;
  }
  const double na = static_cast<double>(a->second->pairs.size());
  const double nb = static_cast<double>(b->second->pairs.size());
  if (schema_.is_classification()) {
    const auto ca = a->second->classification->Compute();
    const auto cb = b->second->classification->Compute();
    e.difference = cb.accuracy - ca.accuracy;
    const auto sa = static_cast<int64_t>(std::llround(ca.accuracy * na));
    const auto sb = static_cast<int64_t>(std::llround(cb.accuracy * nb));
    e.p_value =
        performance::TwoProportionZTest(sa, static_cast<int64_t>(na), sb, static_cast<int64_t>(nb))
            .p_value;
  } else {
    // Welch's t-test on absolute errors: mean = MAE, population variance = MSE - MAE^2.
    const auto ga = a->second->regression->Compute();
    const auto gb = b->second->regression->Compute();
    e.difference = gb.mae - ga.mae;
    auto sample_std = [](const performance::RegressionMetrics& g, double n) {
      return std::sqrt(std::max(0.0, g.mse - g.mae * g.mae) * n / (n - 1));
    };
    e.p_value = performance::WelchTTest(ga.mae, sample_std(ga, na), static_cast<int64_t>(na),
                                        gb.mae, sample_std(gb, nb), static_cast<int64_t>(nb))
                    .p_value;
  }
  metrics_->experiment_difference.With(labels).Set(e.difference);
  SetOrRemove(metrics_->experiment_p_value, labels, e.p_value);
  experiment_ = e;
}

std::vector<std::pair<std::string, std::vector<JoinedPair>>> PerformanceWindows::ExportWindows()
    const {
  std::vector<std::pair<std::string, std::vector<JoinedPair>>> out;
  for (const auto& [version, w] : windows_) {
    out.emplace_back(version, std::vector<JoinedPair>(w->pairs.begin(), w->pairs.end()));
  }
  return out;
}

std::map<std::string, double> PerformanceWindows::LearnedBaseline() const {
  std::map<std::string, double> learned;
  const auto& configured = schema_.config().performance.baseline;
  for (const auto& [metric, value] : baseline_) {
    if (configured.count(metric) == 0) learned.emplace(metric, value);
  }
  return learned;
}

void PerformanceWindows::ImportWindow(const std::string& version, std::vector<JoinedPair> pairs) {
  const size_t limit = schema_.config().performance.window_size;
  Window& w = WindowFor(version);
  for (JoinedPair& pair : pairs) {
    w.Push(std::move(pair));
    while (w.pairs.size() > limit) w.Pop();
  }
}

void PerformanceWindows::ImportBaseline(const std::map<std::string, double>& learned) {
  for (const auto& [metric, value] : learned) {
    if (baseline_.emplace(metric, value).second) {
      metrics_->baseline.With({{"model", schema_.name()}, {"metric", metric}}).Set(value);
    }
  }
}

}  // namespace modelmon::state
