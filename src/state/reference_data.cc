#include "state/reference_data.h"

#include <algorithm>
#include <cmath>

#include "common/bounded_file.h"

namespace modelmon::state {

ReferenceData::ReferenceData(const ingest::ModelSchema& schema)
    : numerical_(schema.columns().size()), categorical_(schema.columns().size()) {}

void ReferenceData::AddRow(const ingest::PredictionEvent& event) {
  for (size_t c = 0; c < event.columns.size(); ++c) AddValue(c, event.columns[c]);
  ++rows_;
}

void ReferenceData::AddValue(size_t column, const ingest::Value& value) {
  if (value.kind == ingest::Value::Kind::kNumber && std::isfinite(value.number)) {
    numerical_[column].push_back(value.number);
  } else if (value.kind == ingest::Value::Kind::kCategory) {
    AddCategory(column, value.category);
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
  void EndRow() override { data_->set_rows(data_->rows() + 1); }

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
