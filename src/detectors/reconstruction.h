#ifndef MODELMON_DETECTORS_RECONSTRUCTION_H_
#define MODELMON_DETECTORS_RECONSTRUCTION_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace modelmon::detectors {

// Rows of a model's inputs: numerical[i] and categorical[i] are row i's values, each row of the
// same widths.
struct FeatureRows {
  std::vector<std::vector<double>> numerical;
  std::vector<std::vector<std::string>> categorical;
  size_t size() const { return numerical.empty() ? categorical.size() : numerical.size(); }
};

// Multivariate drift by data reconstruction, as scikit-learn's
// OneHotEncoder(handle_unknown='ignore') + StandardScaler + PCA(n_components=0.65):
//   - each categorical column is one-hot encoded over the reference's categories in sorted
//     order (a category not in the reference encodes as all zeros); the encoded columns follow
//     the numerical ones;
//   - every column is standardised with the reference mean and population std (ddof = 0); a
//     column with std 0 keeps scale 1;
//   - PCA on the standardised reference keeps the smallest k whose cumulative explained variance
//     ratio exceeds the variance share (scikit-learn's rule: strictly greater, which differs from
//     ">=" only on exact equality);
//   - a row's error is the Euclidean distance between its standardised vector and its projection
//     onto the k components (through the PCA mean); a batch's error is the mean over its rows.
// The thresholds are mean ± 3 σ (population σ) of the errors of the reference's consecutive full
// chunks of chunk_size rows. Immutable after Fit; safe for concurrent const use.
class ReconstructionDrift {
 public:
  // Returns nullopt when the reference is empty or has no features, rows are ragged or hold a
  // non-finite number, chunk_size is 0 or above the reference size, or variance_share is not in (0,
  // 1). O(n d^2 + d^3) for d encoded columns.
  static std::optional<ReconstructionDrift> Fit(const FeatureRows& reference, size_t chunk_size,
                                                double variance_share = 0.65);

  // Mean reconstruction error of the rows; nullopt when empty, of other widths, or holding a
  // non-finite number. O(m d k).
  std::optional<double> MeanError(const FeatureRows& rows) const;

  // Whether a batch error lies outside [lower_threshold, upper_threshold].
  bool Drifted(double error) const { return error < lower_ || error > upper_; }

  size_t components() const { return k_; }
  size_t encoded_width() const { return mean_.size(); }
  double lower_threshold() const { return lower_; }
  double upper_threshold() const { return upper_; }
  const std::vector<double>& reference_chunk_errors() const { return chunk_errors_; }

 private:
  ReconstructionDrift() = default;
  // The standardised encoding of row i, or false on a width mismatch or non-finite value.
  bool Encode(const FeatureRows& rows, size_t i, std::vector<double>& out) const;
  double RowError(const std::vector<double>& x) const;

  size_t numerical_width_ = 0;
  std::vector<std::vector<std::string>> categories_;  // per categorical column, sorted
  std::vector<double> mean_, scale_;                  // per encoded column
  std::vector<double> pca_mean_;                      // per encoded column
  std::vector<double> basis_;                         // k_ rows of encoded width, orthonormal
  size_t k_ = 0;
  double lower_ = 0, upper_ = 0;
  std::vector<double> chunk_errors_;
};

}  // namespace modelmon::detectors

#endif  // MODELMON_DETECTORS_RECONSTRUCTION_H_
