#include "detectors/reconstruction.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

namespace modelmon::detectors {

bool ReconstructionDrift::Encode(const FeatureRows& rows, size_t i,
                                 std::vector<double>& out) const {
  const std::vector<double> empty_num;
  const std::vector<std::string> empty_cat;
  const auto& num = rows.numerical.empty() ? empty_num : rows.numerical[i];
  const auto& cat = rows.categorical.empty() ? empty_cat : rows.categorical[i];
  if (num.size() != numerical_width_ || cat.size() != categories_.size()) return false;
  out.assign(mean_.size(), 0.0);
  size_t col = 0;
  for (const double v : num) {
    if (!std::isfinite(v)) return false;
    out[col++] = v;
  }
  for (size_t c = 0; c < cat.size(); ++c) {
    const auto& cats = categories_[c];
    const auto it = std::lower_bound(cats.begin(), cats.end(), cat[c]);
    if (it != cats.end() && *it == cat[c]) out[col + static_cast<size_t>(it - cats.begin())] = 1;
    col += cats.size();
  }
  for (size_t j = 0; j < out.size(); ++j) out[j] = (out[j] - mean_[j]) / scale_[j];
  return true;
}

double ReconstructionDrift::RowError(const std::vector<double>& x) const {
  const size_t d = x.size();
  std::vector<double> centred(d);
  for (size_t j = 0; j < d; ++j) centred[j] = x[j] - pca_mean_[j];
  std::vector<double> residual = centred;
  for (size_t c = 0; c < k_; ++c) {
    const double* b = &basis_[c * d];
    double t = 0;
    for (size_t j = 0; j < d; ++j) t += centred[j] * b[j];
    for (size_t j = 0; j < d; ++j) residual[j] -= t * b[j];
  }
  double ss = 0;
  for (const double r : residual) ss += r * r;
  return std::sqrt(ss);
}

std::optional<ReconstructionDrift> ReconstructionDrift::Fit(const FeatureRows& reference,
                                                            size_t chunk_size,
                                                            double variance_share) {
  const size_t n = reference.size();
  if (n == 0 || chunk_size == 0 || !(variance_share > 0 && variance_share < 1)) return std::nullopt;
  if (!reference.numerical.empty() && reference.numerical.size() != n) return std::nullopt;
  if (!reference.categorical.empty() && reference.categorical.size() != n) return std::nullopt;
  ReconstructionDrift r;
  r.numerical_width_ = reference.numerical.empty() ? 0 : reference.numerical[0].size();
  const size_t cat_width = reference.categorical.empty() ? 0 : reference.categorical[0].size();
  r.categories_.resize(cat_width);
  for (size_t i = 0; i < n; ++i) {
    if (!reference.categorical.empty()) {
      if (reference.categorical[i].size() != cat_width) return std::nullopt;
      for (size_t c = 0; c < cat_width; ++c)
        r.categories_[c].push_back(reference.categorical[i][c]);
    }
  }
  size_t d = r.numerical_width_;
  for (auto& cats : r.categories_) {
    std::sort(cats.begin(), cats.end());
    cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
    d += cats.size();
  }
  if (d == 0) return std::nullopt;

  // Encode unscaled, then fit the scaler.
  r.mean_.assign(d, 0.0);
  r.scale_.assign(d, 1.0);
  Eigen::MatrixXd x(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  std::vector<double> row;
  for (size_t i = 0; i < n; ++i) {
    if (!r.Encode(reference, i, row)) return std::nullopt;
    for (size_t j = 0; j < d; ++j)
      x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = row[j];
  }
  for (size_t j = 0; j < d; ++j) {
    const auto col = x.col(static_cast<Eigen::Index>(j));
    const double mean = col.mean();
    const double var = (col.array() - mean).square().mean();
    r.mean_[j] = mean;
    r.scale_[j] = var == 0 ? 1.0 : std::sqrt(var);
    x.col(static_cast<Eigen::Index>(j)) = (col.array() - mean) / r.scale_[j];
  }

  // PCA through the covariance's eigen decomposition (eigenvalues ascending).
  const Eigen::RowVectorXd pca_mean = x.colwise().mean();
  const Eigen::MatrixXd centred = x.rowwise() - pca_mean;
  const Eigen::MatrixXd cov = centred.transpose() * centred;
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  const Eigen::VectorXd values = eig.eigenvalues().cwiseMax(0.0);
  const double total = values.sum();
  size_t k = d;
  if (total > 0) {
    double cumulative = 0;
    for (size_t c = 0; c < d; ++c) {
      cumulative += values(static_cast<Eigen::Index>(d - 1 - c)) / total;
      if (cumulative > variance_share) {
        k = c + 1;
        break;
      }
    }
  }
  r.k_ = k;
  r.pca_mean_.assign(pca_mean.data(), pca_mean.data() + d);
  r.basis_.resize(k * d);
  for (size_t c = 0; c < k; ++c) {
    for (size_t j = 0; j < d; ++j) {
      r.basis_[c * d + j] =
          eig.eigenvectors()(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(d - 1 - c));
    }
  }

  // Thresholds from the reference's full chunks.
  for (size_t start = 0; start + chunk_size <= n; start += chunk_size) {
    double sum = 0;
    for (size_t i = start; i < start + chunk_size; ++i) {
      for (size_t j = 0; j < d; ++j) {
        row[j] = x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      }
      sum += r.RowError(row);
    }
    r.chunk_errors_.push_back(sum / static_cast<double>(chunk_size));
  }
  if (r.chunk_errors_.empty()) return std::nullopt;
  {
    double mean = 0;
    for (const double e : r.chunk_errors_) mean += e;
    mean /= static_cast<double>(r.chunk_errors_.size());
    double ss = 0;
    for (const double e : r.chunk_errors_) ss += (e - mean) * (e - mean);
    const double sigma = std::sqrt(ss / static_cast<double>(r.chunk_errors_.size()));
    r.lower_ = mean - 3 * sigma;
    r.upper_ = mean + 3 * sigma;
  }
  return r;
}

std::optional<double> ReconstructionDrift::MeanError(const FeatureRows& rows) const {
  const size_t m = rows.size();
  if (m == 0) return std::nullopt;
  if (!rows.numerical.empty() && rows.numerical.size() != m) return std::nullopt;
  if (!rows.categorical.empty() && rows.categorical.size() != m) return std::nullopt;
  std::vector<double> x;
  double sum = 0;
  for (size_t i = 0; i < m; ++i) {
    if (!Encode(rows, i, x)) return std::nullopt;
    sum += RowError(x);
  }
  return sum / static_cast<double>(m);
}

}  // namespace modelmon::detectors
