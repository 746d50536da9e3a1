#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "state/reference_data.h"

namespace modelmon::state {
namespace {

class ReferenceLabelsTest : public ::testing::Test {
 protected:
  ReferenceLabelsTest() {
    ModelConfig m;
    m.name = "m";
    m.task = Task::kMulticlassClassification;
    m.classes = {"a", "b", "c"};
    m.features = {{"x", FeatureType::kNumerical, {}, {}}};
    m.drift.monitor_prediction = false;
    parser_ = std::make_unique<ingest::EventParser>(
        std::vector<std::shared_ptr<const ingest::ModelSchema>>{
            std::make_shared<ingest::ModelSchema>(m)});
  }
  std::unique_ptr<ingest::EventParser> parser_;
};

TEST_F(ReferenceLabelsTest, CsvAndJsonLinesCarryLabelsPredictionsAndScores) {
  const ReferenceLoad csv =
      ParseReference("x,prediction,scores.a,scores.b,scores.c,label\n1,a,0.7,0.2,0.1,b\n,c,,,,\n",
                     ReferenceFormat::kCsv, *parser_, 0);
  const ReferenceLoad json = ParseReference(
      "{\"features\":{\"x\":1},\"prediction\":\"a\",\"scores\":{\"a\":0.7,\"b\":0.2,\"c\":0.1},"
      "\"label\":\"b\"}\n{\"features\":{},\"prediction\":\"c\"}\n",
      ReferenceFormat::kJsonLines, *parser_, 0);
  for (const ReferenceLoad* load : {&csv, &json}) {
    ASSERT_TRUE(load->data) << load->error;
    const ReferenceData& d = *load->data;
    ASSERT_TRUE(d.has_rows());
    ASSERT_EQ(d.outputs().size(), 2u);
    EXPECT_EQ(d.outputs()[0].predicted_class, 0);
    EXPECT_EQ(d.outputs()[0].label_class, 1);
    EXPECT_EQ(d.outputs()[0].class_scores, (std::vector<double>{0.7, 0.2, 0.1}));
    EXPECT_EQ(d.outputs()[1].predicted_class, 2);
    EXPECT_EQ(d.outputs()[1].label_class, -1);
    EXPECT_TRUE(d.outputs()[1].class_scores.empty());
    EXPECT_EQ(d.row_number(0, 0), 1.0);
    EXPECT_TRUE(std::isnan(d.row_number(1, 0)));
  }
}

TEST_F(ReferenceLabelsTest, AnUnknownLabelRejectsTheReferenceWithItsLine) {
  const ReferenceLoad csv =
      ParseReference("x,prediction,label\n1,a,a\n2,a,zz\n", ReferenceFormat::kCsv, *parser_, 0);
  EXPECT_FALSE(csv.data);
  EXPECT_EQ(csv.error, "invalid reference CSV: line 3, column label: unknown class \"zz\"");
  const ReferenceLoad json = ParseReference(
      "{\"features\":{},\"prediction\":\"a\"}\n\n{\"features\":{},\"prediction\":\"a\",\"label\":7}"
      "\n",
      ReferenceFormat::kJsonLines, *parser_, 0);
  EXPECT_FALSE(json.data);
  EXPECT_EQ(json.error, "invalid reference labels: line 2: label: unknown class \"7\"");
}

}  // namespace
}  // namespace modelmon::state
