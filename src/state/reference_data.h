#ifndef MODELMON_STATE_REFERENCE_DATA_H_
#define MODELMON_STATE_REFERENCE_DATA_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/event.h"
#include "ingest/event_parser.h"
#include "ingest/reference_reader.h"
#include "ingest/schema.h"

namespace modelmon::state {

// Raw reference sample of one model, column by column (ModelSchema::columns() order): the finite
// values of numerical columns and the category counts of categorical ones. Missing values are
// skipped. Rows read through AddRow() or AddValue() ... EndRow() are also kept row by row (the
// configured features, and the outputs and labels) for label-free estimation, multivariate drift
// and target drift; a reference assembled through AddNumber / AddCategory / set_rows (snapshots)
// has no rows (has_rows() false). Plain data; not synchronised.
class ReferenceData {
 public:
  explicit ReferenceData(const ingest::ModelSchema& schema);

  // Adds every column of `event` as AddValue does, its outputs (no label), and ends the row.
  void AddRow(const ingest::PredictionEvent& event);
  // The current row's outputs and label (default: none), then the end of the row.
  void SetOutputs(const ingest::ReferenceOutputs& outputs) { current_outputs_ = outputs; }
  void EndRow();
  // A finite kNumber joins the column's values, a kCategory its counts; anything else is skipped.
  void AddValue(size_t column, const ingest::Value& value);
  void AddNumber(size_t column, double value) { numerical_[column].push_back(value); }
  void AddCategory(size_t column, std::string_view category, int64_t count = 1);

  size_t rows() const { return rows_; }
  void set_rows(size_t rows) { rows_ = rows; }
  std::vector<double>& numerical(size_t column) { return numerical_[column]; }
  const std::vector<double>& numerical(size_t column) const { return numerical_[column]; }
  // Category counts sorted by name.
  std::vector<std::pair<std::string, int64_t>> CategoryCounts(size_t column) const;

  // Row-wise data, one entry per row ended by EndRow() (row_count() of them).
  bool has_rows() const { return row_count_ > 0 && row_count_ == rows_; }
  size_t row_count() const { return row_count_; }
  // Feature f (0 <= f < schema.num_features()) of row r: NaN / "" when missing or of the other
  // type.
  double row_number(size_t r, size_t f) const { return row_numbers_[r * num_features_ + f]; }
  const std::string& row_category(size_t r, size_t f) const {
    return row_categories_[r * num_features_ + f];
  }
  const std::vector<ingest::ReferenceOutputs>& outputs() const { return outputs_; }

 private:
  size_t num_features_ = 0;
  size_t row_count_ = 0;
  std::vector<double> row_numbers_;          // row_count_ x num_features_
  std::vector<std::string> row_categories_;  // row_count_ x num_features_
  std::vector<ingest::ReferenceOutputs> outputs_;
  std::vector<double> current_numbers_;
  std::vector<std::string> current_categories_;
  ingest::ReferenceOutputs current_outputs_;
  size_t rows_ = 0;
  std::vector<std::vector<double>> numerical_;
  std::vector<ingest::StringMap<int64_t>> categorical_;
};

// A loaded reference sample, or the error that kept it from loading (then `data` is empty).
struct ReferenceLoad {
  std::optional<ReferenceData> data;
  std::string error;
};
using ReferenceFormat = ingest::ReferenceFormat;
// Loads a reference sample validated by ingest::ReadReference (JSON lines or CSV): every row must
// be valid, otherwise the result is ReadReference's error.
ReferenceLoad ParseReference(std::string_view body, ReferenceFormat format,
                             const ingest::EventParser& parser, size_t model);
// Reads the file at `path`, format from its extension (.csv is CSV; anything else JSON lines).
// Errors are prefixed with "PATH: ".
ReferenceLoad LoadReferenceFile(const std::string& path, const ingest::EventParser& parser,
                                size_t model);

}  // namespace modelmon::state

#endif  // MODELMON_STATE_REFERENCE_DATA_H_
