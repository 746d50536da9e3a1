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
// skipped. Plain data; not synchronised.
class ReferenceData {
 public:
  explicit ReferenceData(const ingest::ModelSchema& schema);

  // Adds every column of `event` as AddValue does, and counts one row.
  void AddRow(const ingest::PredictionEvent& event);
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

 private:
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
