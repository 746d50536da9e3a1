#include "ingest/reference_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "modelmon/config.h"

namespace modelmon::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Rows as text: "column=value" per present cell, in the order the reader passed them.
class RecordingSink : public ReferenceSink {
 public:
  void Cell(size_t column, const Value& value) override {
    current_.push_back(std::to_string(column) + "=" +
                       (value.kind == Value::Kind::kNumber ? std::to_string(value.number)
                                                           : "'" + value.category + "'"));
  }
  void EndRow() override {
    rows.push_back(std::move(current_));
    current_.clear();
  }

  std::vector<std::vector<std::string>> rows;

 private:
  std::vector<std::string> current_;
};

// Columns of "fraud": 0 amount (numerical), 1 country (categorical), 2 __prediction__
// (categorical, classes "no" / "yes"), 3 __score__ (numerical). "price": 0 rooms, 1 __prediction__
// (numerical).
class ReferenceReaderTest : public ::testing::Test {
 protected:
  ReferenceReaderTest() {
    ModelConfig fraud;
    fraud.name = "fraud";
    fraud.task = Task::kBinaryClassification;
    fraud.classes = {"no", "yes"};
    fraud.positive_class = "yes";
    fraud.features = {{"amount", FeatureType::kNumerical, {}, {}},
                      {"country", FeatureType::kCategorical, {}, {}}};
    ModelConfig price;
    price.name = "price";
    price.task = Task::kRegression;
    price.features = {{"rooms", FeatureType::kNumerical, {}, {}}};
    parser_ = std::make_unique<EventParser>(std::vector<std::shared_ptr<const ModelSchema>>{
        std::make_shared<ModelSchema>(fraud), std::make_shared<ModelSchema>(price)});
  }

  std::string Csv(const std::string& body, size_t model = 0) {
    sink_ = RecordingSink();
    return ReadReference(body, ReferenceFormat::kCsv, *parser_, model, &sink_);
  }

  std::unique_ptr<EventParser> parser_;
  RecordingSink sink_;
};

TEST_F(ReferenceReaderTest, CsvHeaderMapsFeaturesPredictionAndScoreAndIgnoresOtherColumns) {
  EXPECT_EQ(Csv("id,score,country,amount,prediction\nr1,0.25,DE,12.5,yes\nr2,0.75,FR,3,no\n"), "");
  ASSERT_EQ(sink_.rows.size(), 2u);
  EXPECT_THAT(sink_.rows[0], ElementsAre("3=0.250000", "1='DE'", "0=12.500000", "2='yes'"));
  EXPECT_THAT(sink_.rows[1], ElementsAre("3=0.750000", "1='FR'", "0=3.000000", "2='no'"));
}

TEST_F(ReferenceReaderTest, CsvSkipsLeadingAndBlankLinesAndAcceptsCrLf) {
  EXPECT_EQ(Csv("\r\n\namount,country\r\n1,DE\r\n\r\n2,FR"), "");
  ASSERT_EQ(sink_.rows.size(), 2u);
  EXPECT_THAT(sink_.rows[1], ElementsAre("0=2.000000", "1='FR'"));
}

TEST_F(ReferenceReaderTest, CsvQuotedFieldsKeepCommasAndDoubledQuotes) {
  EXPECT_EQ(Csv("country,amount\n\"Bosnia, and \"\"H\"\"\",1\n"), "");
  ASSERT_EQ(sink_.rows.size(), 1u);
  EXPECT_THAT(sink_.rows[0], ElementsAre("1='Bosnia, and \"H\"'", "0=1.000000"));
}

TEST_F(ReferenceReaderTest, CsvEmptyCellsAreMissingButTheRowCounts) {
  EXPECT_EQ(Csv("amount,country\n,\n5,\n"), "");
  ASSERT_EQ(sink_.rows.size(), 2u);
  EXPECT_THAT(sink_.rows[0], IsEmpty());
  EXPECT_THAT(sink_.rows[1], ElementsAre("0=5.000000"));
}

TEST_F(ReferenceReaderTest, CsvEmptyBodyOrUnknownHeaderIsAnError) {
  EXPECT_EQ(Csv(""), "empty CSV: expected a header line naming the columns");
  EXPECT_EQ(Csv("\n\r\n"), "empty CSV: expected a header line naming the columns");
  EXPECT_EQ(Csv("id,other\n1,2\n"), "CSV header names none of the model's features");
}

TEST_F(ReferenceReaderTest, CsvWrongFieldCountNamesTheLine) {
  EXPECT_EQ(Csv("amount,country\n1,DE\n2\n3,FR,x\n"),
            "invalid reference CSV: line 3: expected 2 fields, got 1; line 4: expected 2 fields, "
            "got 3");
}

TEST_F(ReferenceReaderTest, CsvBadNumbersAndUnknownClassesNameLineAndColumn) {
  EXPECT_EQ(Csv("amount,prediction,score\nabc,yes,0.5\n1,maybe,inf\n1e999,no,0.1\n"),
            "invalid reference CSV: line 2, column amount: expected a number, got \"abc\"; line "
            "3, column prediction: unknown class \"maybe\"; line 3, column score: expected a "
            "number, got \"inf\"; line 4, column amount: expected a number, got \"1e999\"");
}

TEST_F(ReferenceReaderTest, CsvReportsTheFirstFiveProblemsOnly) {
  std::string body = "amount\n";
  for (char c = '0'; c < '8'; ++c) {
    body += 'x';
    body += c;
    body += '\n';
  }
  const std::string error = Csv(body);
  EXPECT_NE(error.find("line 6, column amount: expected a number, got \"x4\""), std::string::npos);
  EXPECT_EQ(error.find("x5"), std::string::npos);
}

TEST_F(ReferenceReaderTest, CsvCutsLongCellsTo64BytesInErrors) {
  const std::string cell(100, 'z');
  EXPECT_EQ(Csv("amount\n" + cell + "\n"),
            "invalid reference CSV: line 2, column amount: "
            "expected a number, got \"" +
                std::string(64, 'z') + "\"");
}

TEST_F(ReferenceReaderTest, CsvRegressionPredictionIsNumerical) {
  EXPECT_EQ(Csv("rooms,prediction\n3,250000.5\n", 1), "");
  ASSERT_EQ(sink_.rows.size(), 1u);
  EXPECT_THAT(sink_.rows[0], ElementsAre("0=3.000000", "1=250000.500000"));
  EXPECT_EQ(Csv("rooms,prediction\n3,cheap\n", 1),
            "invalid reference CSV: line 2, column prediction: expected a number, got \"cheap\"");
}

TEST_F(ReferenceReaderTest, ParseReferenceCellFollowsTheColumnType) {
  const ModelSchema& schema = *parser_->schemas()[0];
  Value v;
  EXPECT_EQ(ParseReferenceCell(schema, 0, "", &v), std::nullopt);
  EXPECT_EQ(v.kind, Value::Kind::kMissing);
  EXPECT_EQ(ParseReferenceCell(schema, 0, "-2.5", &v), std::nullopt);
  EXPECT_EQ(v.kind, Value::Kind::kNumber);
  EXPECT_EQ(v.number, -2.5);
  EXPECT_EQ(ParseReferenceCell(schema, 0, " 1", &v), "expected a number, got \" 1\"");
  EXPECT_EQ(ParseReferenceCell(schema, 0, "nan", &v), "expected a number, got \"nan\"");
  EXPECT_EQ(ParseReferenceCell(schema, 1, "anything at all", &v), std::nullopt);
  EXPECT_EQ(v.kind, Value::Kind::kCategory);
  EXPECT_EQ(v.category, "anything at all");
  EXPECT_EQ(ParseReferenceCell(schema, 2, "yes", &v), std::nullopt);
  EXPECT_EQ(ParseReferenceCell(schema, 2, "YES", &v), "unknown class \"YES\"");
}

TEST_F(ReferenceReaderTest, JsonLinesGoThroughTheEventParser) {
  RecordingSink sink;
  EXPECT_EQ(
      ReadReference("{\"features\":{\"amount\":1,\"country\":\"DE\"},\"prediction\":\"yes\"}\n"
                    "{\"features\":{\"amount\":null},\"prediction\":\"no\",\"score\":0.2}\n",
                    ReferenceFormat::kJsonLines, *parser_, 0, &sink),
      "");
  ASSERT_EQ(sink.rows.size(), 2u);
  EXPECT_THAT(sink.rows[0], ElementsAre("0=1.000000", "1='DE'", "2='yes'"));
  EXPECT_THAT(sink.rows[1], ElementsAre("2='no'", "3=0.200000"));
}

TEST_F(ReferenceReaderTest, JsonLinesErrorsNameTheirLines) {
  RecordingSink sink;
  const std::string error =
      ReadReference("{\"features\":{\"amount\":\"x\"},\"prediction\":\"yes\"}\nnot json\n",
                    ReferenceFormat::kJsonLines, *parser_, 0, &sink);
  EXPECT_EQ(error.rfind("invalid reference events: line 1: features.amount: expected number", 0),
            0u)
      << error;
  EXPECT_NE(error.find("; line 2: "), std::string::npos) << error;
  EXPECT_EQ(ReadReference("", ReferenceFormat::kJsonLines, *parser_, 0, &sink),
            "empty body: expected one JSON object per line");
}

}  // namespace
}  // namespace modelmon::ingest
