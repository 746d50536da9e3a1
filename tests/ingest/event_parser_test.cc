#include "ingest/event_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "modelmon/config.h"

namespace modelmon::ingest {
namespace {

using ::testing::HasSubstr;

class EventParserTest : public ::testing::Test {
 protected:
  EventParserTest() {
    ModelConfig fraud;
    fraud.name = "fraud";
    fraud.task = Task::kBinaryClassification;
    fraud.classes = {"0", "1"};
    fraud.positive_class = "1";
    fraud.features = {{"amount", FeatureType::kNumerical, {}, {}},
                      {"country", FeatureType::kCategorical, {}, {}},
                      {"age", FeatureType::kNumerical, {}, {}}};
    ModelConfig price;
    price.name = "price";
    price.task = Task::kRegression;
    price.features = {{"rooms", FeatureType::kNumerical, {}, {}}};
    ModelConfig animal;
    animal.name = "animal";
    animal.task = Task::kMulticlassClassification;
    animal.classes = {"cat", "dog", "bird"};
    animal.features = {{"weight", FeatureType::kNumerical, {}, {}}};
    parser_ = std::make_unique<EventParser>(std::vector<std::shared_ptr<const ModelSchema>>{
        std::make_shared<ModelSchema>(fraud), std::make_shared<ModelSchema>(price),
        std::make_shared<ModelSchema>(animal)});
  }

  ParsedBatch<PredictionEvent> Predictions(const std::string& body,
                                           BodyFormat format = BodyFormat::kJson,
                                           size_t max_events = 1000) {
    return parser_->ParsePredictions(body, format, max_events);
  }

  std::unique_ptr<EventParser> parser_;
};

TEST_F(EventParserTest, ParsesAFullBinaryEvent) {
  auto b = Predictions(R"({"model":"fraud","model_version":"v3","id":"req-1",
      "timestamp":"2026-11-29T10:00:00Z","features":{"amount":12.5,"country":"DE","age":null},
      "prediction":1,"score":0.91,"latency_ms":3.5,"error":false})");
  ASSERT_FALSE(b.body_error);
  ASSERT_EQ(b.events.size(), 1u);
  ASSERT_TRUE(b.errors.empty());
  const PredictionEvent& e = b.events[0];
  EXPECT_EQ(e.model, 0u);
  EXPECT_EQ(e.model_version, "v3");
  EXPECT_EQ(e.id, "req-1");
  EXPECT_DOUBLE_EQ(e.timestamp, 1795946400.0);
  EXPECT_EQ(e.predicted_class, 1);
  EXPECT_DOUBLE_EQ(e.score, 0.91);
  EXPECT_DOUBLE_EQ(e.latency_ms, 3.5);
  EXPECT_EQ(e.error, 0);
  // Columns: amount, country, age, __prediction__, __score__.
  ASSERT_EQ(e.columns.size(), 5u);
  EXPECT_EQ(e.columns[0].kind, Value::Kind::kNumber);
  EXPECT_DOUBLE_EQ(e.columns[0].number, 12.5);
  EXPECT_EQ(e.columns[1].kind, Value::Kind::kCategory);
  EXPECT_EQ(e.columns[1].category, "DE");
  EXPECT_EQ(e.columns[2].kind, Value::Kind::kMissing);
  EXPECT_EQ(e.columns[3].category, "1");
  EXPECT_DOUBLE_EQ(e.columns[4].number, 0.91);
}

TEST_F(EventParserTest, BatchKeepsGoodEventsAndReportsBadOnes) {
  auto b = Predictions(R"([
    {"model":"fraud","features":{"amount":1,"country":"FR"},"prediction":0},
    {"model":"fraud","features":{"amount":"12","country":"FR"},"prediction":0},
    {"model":"nope","features":{},"prediction":0},
    {"model":"fraud","features":{"amount":2},"prediction":"2"},
    {"model":"fraud","prediction":1},
    17,
    {"model":"price","features":{"rooms":3},"prediction":250000.5}
  ])");
  ASSERT_FALSE(b.body_error);
  EXPECT_EQ(b.total, 7u);
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[1].model, 1u);
  EXPECT_DOUBLE_EQ(b.events[1].predicted_value, 250000.5);
  ASSERT_EQ(b.errors.size(), 5u);
  EXPECT_EQ(b.errors[0].index, 1u);
  EXPECT_EQ(b.errors[0].message, "features.amount: expected number, got string");
  EXPECT_EQ(b.errors[0].reason, RejectReason::kWrongType);
  EXPECT_EQ(b.errors[1].reason, RejectReason::kUnknownModel);
  EXPECT_EQ(b.errors[1].message, "model: unknown model \"nope\"");
  EXPECT_EQ(b.errors[2].reason, RejectReason::kUnknownClass);
  EXPECT_THAT(b.errors[2].message, HasSubstr("prediction: unknown class \"2\""));
  EXPECT_EQ(b.errors[3].message, "features: required");
  EXPECT_EQ(b.errors[4].message, "event: expected object, got number");
}

TEST_F(EventParserTest, NdjsonLinesFailIndependently) {
  auto b = Predictions(
      "{\"model\":\"fraud\",\"features\":{\"amount\":1},\"prediction\":1}\n"
      "{not json}\n"
      "\n"
      "{\"model\":\"fraud\",\"features\":{\"country\":7},\"prediction\":true}\r\n",
      BodyFormat::kNdjson);
  ASSERT_FALSE(b.body_error);
  EXPECT_EQ(b.total, 3u);
  ASSERT_EQ(b.events.size(), 1u);  // "true" is not one of the classes.
  ASSERT_EQ(b.errors.size(), 2u);
  EXPECT_EQ(b.errors[0].index, 1u);
  EXPECT_EQ(b.errors[0].reason, RejectReason::kInvalidJson);
  EXPECT_EQ(b.errors[1].reason, RejectReason::kUnknownClass);
}

TEST_F(EventParserTest, CategoricalNumbersBecomeText) {
  auto b = Predictions(R"({"model":"fraud","features":{"country":7},"prediction":1.0})");
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].columns[1].category, "7");
  EXPECT_EQ(b.events[0].predicted_class, 1);
}

TEST_F(EventParserTest, WholeBodyErrors) {
  EXPECT_THAT(*Predictions("").body_error, HasSubstr("empty body"));
  // A default view has a null data(); it is an empty body too (found by the fuzzer under UBSan).
  EXPECT_THAT(*parser_->ParsePredictions(std::string_view(), BodyFormat::kJson, 10).body_error,
              HasSubstr("empty body"));
  EXPECT_THAT(*parser_->ParseGroundTruth(std::string_view(), BodyFormat::kNdjson, 10).body_error,
              HasSubstr("empty body"));
  EXPECT_THAT(*Predictions("{\"model\":").body_error, HasSubstr("invalid JSON"));
  EXPECT_THAT(*Predictions("\"text\"").body_error, HasSubstr("got string"));
  EXPECT_THAT(*Predictions("[1e999]").body_error, HasSubstr("invalid JSON"));
  EXPECT_THAT(*Predictions("\xff\xfe").body_error, HasSubstr("invalid JSON"));
  auto nested = std::string(100, '[') + std::string(100, ']');
  EXPECT_TRUE(Predictions(nested).body_error);
  auto many = Predictions("[{},{},{}]", BodyFormat::kJson, 2);
  EXPECT_TRUE(many.too_many_events);
  EXPECT_TRUE(many.events.empty());
  auto many_lines = Predictions("{}\n{}\n{}\n", BodyFormat::kNdjson, 2);
  EXPECT_TRUE(many_lines.too_many_events);
}

TEST_F(EventParserTest, DuplicateKeysAndBadFields) {
  auto b = Predictions(R"([
    {"model":"fraud","features":{"amount":1,"amount":2},"prediction":1},
    {"model":"fraud","features":{},"prediction":1,"timestamp":"yesterday"},
    {"model":"fraud","features":{},"prediction":1,"latency_ms":-1},
    {"model":"fraud","features":{},"prediction":1,"id":""},
    {"model":"fraud","features":{},"prediction":1,"score":"high"}
  ])");
  ASSERT_EQ(b.errors.size(), 5u);
  EXPECT_EQ(b.errors[0].message, "features.amount: duplicate key");
  EXPECT_THAT(b.errors[1].message, HasSubstr("timestamp: expected RFC 3339"));
  EXPECT_THAT(b.errors[2].message, HasSubstr("latency_ms: expected a non-negative number"));
  EXPECT_THAT(b.errors[3].message, HasSubstr("id: expected 1 to 256 characters"));
  EXPECT_EQ(b.errors[4].message, "score: expected number, got string");
}

TEST_F(EventParserTest, MulticlassScores) {
  auto b = Predictions(R"([
    {"model":"animal","features":{"weight":4},"prediction":"dog",
     "scores":{"cat":0.2,"dog":0.7,"bird":0.1}},
    {"model":"animal","features":{"weight":4},"prediction":"dog","scores":{"cat":1}},
    {"model":"animal","features":{"weight":4},"prediction":"dog","scores":{"fish":1}}
  ])");
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].predicted_class, 1);
  EXPECT_EQ(b.events[0].class_scores, (std::vector<double>{0.2, 0.7, 0.1}));
  ASSERT_EQ(b.errors.size(), 2u);
  EXPECT_THAT(b.errors[0].message, HasSubstr("expected a score for each of the 3 classes"));
  EXPECT_THAT(b.errors[1].message, HasSubstr("unknown class \"fish\""));
}

TEST_F(EventParserTest, GroundTruth) {
  auto b = parser_->ParseGroundTruth(R"([
    {"model":"fraud","id":"req-1","label":1},
    {"model":"price","id":42,"value":3.5},
    {"model":"fraud","label":1},
    {"model":"fraud","id":"x","label":"maybe"},
    {"model":"price","id":"y","value":"3"}
  ])",
                                     BodyFormat::kJson, 100);
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].label_class, 1);
  EXPECT_EQ(b.events[1].id, "42");
  EXPECT_DOUBLE_EQ(b.events[1].label_value, 3.5);
  ASSERT_EQ(b.errors.size(), 3u);
  EXPECT_EQ(b.errors[0].message, "id: required");
  EXPECT_EQ(b.errors[1].reason, RejectReason::kUnknownClass);
  EXPECT_EQ(b.errors[2].message, "value: expected number, got string");
}

TEST_F(EventParserTest, OnlyModelAllowsOmittingTheModel) {
  auto b = parser_->ParsePredictions(
      "{\"features\":{\"rooms\":1},\"prediction\":2}\n"
      "{\"model\":\"fraud\",\"features\":{},\"prediction\":1}\n",
      BodyFormat::kNdjson, 10, 1);
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].model, 1u);
  ASSERT_EQ(b.errors.size(), 1u);
  EXPECT_EQ(b.errors[0].message, "model: expected \"price\"");
}

TEST(Rfc3339Test, ParsesAndRejects) {
  EXPECT_DOUBLE_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0.0);
  EXPECT_DOUBLE_EQ(*ParseRfc3339("2026-11-29T10:00:00Z"), 1795946400.0);
  EXPECT_DOUBLE_EQ(*ParseRfc3339("2026-11-29T10:00:00.25Z"), 1795946400.25);
  EXPECT_DOUBLE_EQ(*ParseRfc3339("2026-11-29T12:00:00+02:00"), 1795946400.0);
  EXPECT_DOUBLE_EQ(*ParseRfc3339("2024-02-29T00:00:00Z"), 1709164800.0);
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-11-29T10:00:00"));
  EXPECT_FALSE(ParseRfc3339("2026-11-29"));
  EXPECT_FALSE(ParseRfc3339("2026-11-29T10:00:00Zjunk"));
}

}  // namespace
}  // namespace modelmon::ingest
