#include "state/reference_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "modelmon/config.h"

namespace modelmon::state {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class ReferenceDataTest : public ::testing::Test {
 protected:
  ReferenceDataTest() {
    ModelConfig fraud;
    fraud.name = "fraud";
    fraud.task = Task::kBinaryClassification;
    fraud.classes = {"no", "yes"};
    fraud.positive_class = "yes";
    fraud.features = {{"amount", FeatureType::kNumerical, {}, {}},
                      {"country", FeatureType::kCategorical, {}, {}}};
    parser_ = std::make_unique<ingest::EventParser>(
        std::vector<std::shared_ptr<const ingest::ModelSchema>>{
            std::make_shared<ingest::ModelSchema>(fraud)});
  }

  std::unique_ptr<ingest::EventParser> parser_;
};

// Columns: 0 amount, 1 country, 2 __prediction__, 3 __score__.
TEST_F(ReferenceDataTest, CsvAndJsonLinesOfTheSameRowsGiveTheSameSample) {
  const ReferenceLoad csv =
      ParseReference("amount,country,prediction,score\n1.5,DE,yes,0.9\n,FR,no,\n2,DE,no,0.1\n",
                     ReferenceFormat::kCsv, *parser_, 0);
  const ReferenceLoad json = ParseReference(
      "{\"features\":{\"amount\":1.5,\"country\":\"DE\"},\"prediction\":\"yes\",\"score\":0.9}\n"
      "{\"features\":{\"country\":\"FR\"},\"prediction\":\"no\"}\n"
      "{\"features\":{\"amount\":2,\"country\":\"DE\"},\"prediction\":\"no\",\"score\":0.1}\n",
      ReferenceFormat::kJsonLines, *parser_, 0);
  for (const ReferenceLoad* load : {&csv, &json}) {
    ASSERT_TRUE(load->data) << load->error;
    const ReferenceData& d = *load->data;
    EXPECT_EQ(d.rows(), 3u);
    EXPECT_THAT(d.numerical(0), ElementsAre(1.5, 2.0));
    EXPECT_THAT(d.CategoryCounts(1), ElementsAre(Pair("DE", 2), Pair("FR", 1)));
    EXPECT_THAT(d.CategoryCounts(2), ElementsAre(Pair("no", 2), Pair("yes", 1)));
    EXPECT_THAT(d.numerical(3), ElementsAre(0.9, 0.1));
  }
}

TEST_F(ReferenceDataTest, AnInvalidRowRejectsTheWholeReference) {
  const ReferenceLoad load = ParseReference("amount\n1\nx\n", ReferenceFormat::kCsv, *parser_, 0);
  EXPECT_FALSE(load.data);
  EXPECT_EQ(load.error,
            "invalid reference CSV: line 3, column amount: expected a number, got \"x\"");
}

TEST_F(ReferenceDataTest, MissingFileIsNamedInTheError) {
  const ReferenceLoad load = LoadReferenceFile("/nonexistent/ref.csv", *parser_, 0);
  EXPECT_FALSE(load.data);
  EXPECT_EQ(load.error, "/nonexistent/ref.csv: cannot open file: No such file or directory");
}

}  // namespace
}  // namespace modelmon::state
