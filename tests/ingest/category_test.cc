// The one category validator (ingest/schema.h) and its use by events and references alike.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ingest/event_parser.h"
#include "ingest/reference_reader.h"
#include "ingest/schema.h"
#include "modelmon/config.h"

namespace modelmon::ingest {
namespace {

TEST(CategoryTest, Utf8FollowsRfc3629) {
  // Valid: ASCII, 2-, 3- and 4-byte forms and the edges around the surrogates and U+10FFFF.
  for (const char* valid :
       {"", "DE", "Z\xC3\xBCrich", "\xE6\x9D\xB1\xE4\xBA\xAC", "\xF0\x9F\x98\x80", "\xC2\x80",
        "\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(valid)) << valid;
  }
  // Invalid: a lone continuation byte, truncated sequences, overlong forms, surrogates, code
  // points above U+10FFFF and the bytes that never occur.
  for (const char* invalid :
       {"\x80", "a\xBF", "\xC3", "\xE6\x9D", "\xF0\x9F\x98", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF",
        "\xE0\x9F\xBF", "\xF0\x8F\xBF\xBF", "\xED\xA0\x80", "\xED\xBF\xBF", "\xF4\x90\x80\x80",
        "\xF5\x80\x80\x80", "\xFE", "\xFF", "\xC3\x28", "\xE6\x28\xAC"}) {
    EXPECT_FALSE(IsValidUtf8(invalid)) << ::testing::PrintToString(std::string(invalid));
  }
}

TEST(CategoryTest, LengthUtf8AndTheOverflowBinName) {
  EXPECT_EQ(CategoryProblem(std::string(kMaxCategoryBytes, 'x')), std::nullopt);
  EXPECT_EQ(CategoryProblem(std::string(kMaxCategoryBytes + 1, 'x')),
            "category longer than 1024 bytes");
  EXPECT_EQ(CategoryProblem("caf\xC3"), "category is not valid UTF-8");
  EXPECT_EQ(CategoryProblem("__other__"),
            "category \"__other__\" is reserved: it labels the bin of categories outside the "
            "reference's kept ones");
  EXPECT_EQ(CategoryProblem("__other"), std::nullopt);
  EXPECT_EQ(CategoryProblem("__other__2"), std::nullopt);
  EXPECT_EQ(CategoryProblem(""), std::nullopt);
}

// Events, reference CSV and reference JSON lines refuse the same categories with the same words.
class CategoryAgreementTest : public ::testing::Test {
 protected:
  CategoryAgreementTest() {
    ModelConfig fraud;
    fraud.name = "fraud";
    fraud.task = Task::kBinaryClassification;
    fraud.classes = {"no", "yes"};
    fraud.positive_class = "yes";
    fraud.features = {{"country", FeatureType::kCategorical, {}, {}}};
    parser_ = std::make_unique<EventParser>(
        std::vector<std::shared_ptr<const ModelSchema>>{std::make_shared<ModelSchema>(fraud)});
  }

  // Discards the cells: the readers' errors are what these tests compare.
  class NullSink : public ReferenceSink {
   public:
    void Cell(size_t, const Value&) override {}
    void EndRow() override {}
  };

  std::string Csv(const std::string& body) {
    NullSink sink;
    return ReadReference(body, ReferenceFormat::kCsv, *parser_, 0, &sink);
  }
  std::string JsonLines(const std::string& body) {
    NullSink sink;
    return ReadReference(body, ReferenceFormat::kJsonLines, *parser_, 0, &sink);
  }

  std::unique_ptr<EventParser> parser_;
};

TEST_F(CategoryAgreementTest, OversizedAndReservedCategoriesAreRefusedEverywhere) {
  const std::string long_category(kMaxCategoryBytes + 1, 'x');
  const std::string at_limit(kMaxCategoryBytes, 'x');
  for (const std::string& bad : {long_category, std::string("__other__")}) {
    const std::string problem = *CategoryProblem(bad);
    const std::string event =
        R"({"model":"fraud","features":{"country":")" + bad + R"("},"prediction":"no"})";
    auto batch = parser_->ParsePredictions(event, BodyFormat::kJson, 10);
    ASSERT_EQ(batch.errors.size(), 1u);
    EXPECT_EQ(batch.errors[0].reason, RejectReason::kInvalidValue);
    EXPECT_EQ(batch.errors[0].message, "features.country: " + problem);
    EXPECT_EQ(JsonLines(event), "invalid reference events: line 1: features.country: " + problem);
    EXPECT_EQ(Csv("country,prediction\nDE,no\n" + bad + ",yes\n"),
              "invalid reference CSV: line 3, column country: " + problem);
  }
  // At the limit, all three accept.
  const std::string event =
      R"({"model":"fraud","features":{"country":")" + at_limit + R"("},"prediction":"no"})";
  EXPECT_THAT(parser_->ParsePredictions(event, BodyFormat::kJson, 10).errors, ::testing::IsEmpty());
  EXPECT_EQ(JsonLines(event), "");
  EXPECT_EQ(Csv("country\n" + at_limit + "\n"), "");
}

TEST_F(CategoryAgreementTest, InvalidUtf8IsRefusedInCsvAsInJson) {
  // JSON bodies with invalid UTF-8 are refused whole by the JSON parser; a CSV cell by the
  // category validator.
  const std::string bad = "caf\xC3";
  auto batch = parser_->ParsePredictions(
      R"({"model":"fraud","features":{"country":")" + bad + R"("},"prediction":"no"})",
      BodyFormat::kJson, 10);
  EXPECT_TRUE(batch.body_error.has_value());
  EXPECT_EQ(Csv("country\n" + bad + "\n"),
            "invalid reference CSV: line 2, column country: category is not valid UTF-8");
  // A valid multi-byte category passes everywhere.
  const std::string good = "Z\xC3\xBCrich";
  EXPECT_EQ(Csv("country\n" + good + "\n"), "");
  EXPECT_EQ(JsonLines(R"({"features":{"country":")" + good + R"("},"prediction":"no"})"), "");
}

TEST_F(CategoryAgreementTest, CsvCellValidationReportsTheCategoryProblem) {
  Value value;
  EXPECT_EQ(ParseReferenceCell(*parser_->schemas()[0], 0, "__other__", &value),
            CategoryProblem("__other__"));
  EXPECT_EQ(ParseReferenceCell(*parser_->schemas()[0], 0, "DE", &value), std::nullopt);
  EXPECT_EQ(value.kind, Value::Kind::kCategory);
  EXPECT_EQ(value.category, "DE");
}

}  // namespace
}  // namespace modelmon::ingest
