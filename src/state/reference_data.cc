#include "state/reference_data.h"

#include <algorithm>
#include <cmath>

#include "common/bounded_file.h"

namespace modelmon::state {

ReferenceData::ReferenceData(const ingest::ModelSchema& schema)
    : num_features_(schema.num_features()),
      current_numbers_(schema.num_features(), NAN),
      current_categories_(schema.num_features()),
      numerical_(schema.columns().size()),
      categorical_(schema.columns().size()) {}

void ReferenceData::AddRow(const ingest::PredictionEvent& event) {
  for (size_t c = 0; c < event.columns.size(); ++c) AddValue(c, event.columns[c]);
  current_outputs_.predicted_class = event.predicted_class;
  current_outputs_.predicted_value = event.predicted_value;
  current_outputs_.score = event.score;
  current_outputs_.class_scores = event.class_scores;
  EndRow();
}

void ReferenceData::EndRow() {
  row_numbers_.insert(row_numbers_.end(), current_numbers_.begin(), current_numbers_.end());
  for (std::string& c : current_categories_) row_categories_.push_back(std::move(c));
  outputs_.push_back(std::move(current_outputs_));
  current_numbers_.assign(num_features_, NAN);
  current_categories_.assign(num_features_, std::string());
  current_outputs_ = ingest::ReferenceOutputs();
  ++row_count_;
  ++rows_;
}

void ReferenceData::AddValue(size_t column, const ingest::Value& value) {
  if (value.kind == ingest::Value::Kind::kNumber && std::isfinite(value.number)) {
    numerical_[column].push_back(value.number);
    if (column < num_features_) current_numbers_[column] = value.number;
  } else if (value.kind == ingest::Value::Kind::kCategory) {
    AddCategory(column, value.category);
    if (column < num_features_) current_categories_[column] = value.category;
  }
}

void ReferenceData::AddCategory(size_t column, std::string_view category, int64_t count) {
  auto& counts = categorical_[column];
  auto it = counts.find(category);
  if (it == counts.end()) {
    counts.emplace(std::string(category), count);
  } else {
    it->second += count;
  }
}

std::vector<std::pair<std::string, int64_t>> ReferenceData::CategoryCounts(size_t column) const {
  std::vector<std::pair<std::string, int64_t>> out(categorical_[column].begin(),
                                                   categorical_[column].end());
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// Adds the rows of a validated reference to a ReferenceData. Not thread-safe.
class DataSink : public ingest::ReferenceSink {
 public:
  explicit DataSink(ReferenceData* data) : data_(data) {}
  void Cell(size_t column, const ingest::Value& value) override { data_->AddValue(column, value); }
  void Outputs(const ingest::ReferenceOutputs& outputs) override { data_->SetOutputs(outputs); }
  void EndRow() override { data_->EndRow(); }

 private:
  ReferenceData* data_;
};

}  // namespace

ReferenceLoad ParseReference(std::string_view body, ReferenceFormat format,
                             const ingest::EventParser& parser, size_t model) {
  ReferenceLoad out;
  ReferenceData data(*parser.schemas()[model]);
  DataSink sink(&data);
  out.error = ingest::ReadReference(body, format, parser, model, &sink);
  if (out.error.empty()) out.data = std::move(data);
  return out;
}

ReferenceLoad LoadReferenceFile(const std::string& path, const ingest::EventParser& parser,
                                size_t model) {
  // The largest reference file: the largest reference upload a config can allow
  // (server.max_body_bytes is at most 1 GiB). Regular files only, so a FIFO or /dev/zero is
  // refused at once instead of blocking or filling memory.
  constexpr size_t kMaxReferenceFileBytes = size_t{1} << 30;
  std::string body;
  std::string error;
  if (ReadBoundedFile(path, kMaxReferenceFileBytes, &body, &error) != FileReadStatus::kOk) {
    ReferenceLoad out;
    out.error = error;
    return out;
  }
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  ReferenceLoad out = ParseReference(
      body, csv ? ReferenceFormat::kCsv : ReferenceFormat::kJsonLines, parser, model);
  if (!out.data) out.error = path + ": " + out.error;
  return out;
}

}  // namespace modelmon::state
