// The evaluator on real MNIST digits (label slow): accuracy floor and real-vs-real FID ceiling.
#include <gtest/gtest.h>

#include "core/runtime.h"
#include "data/dataset.h"
#include "eval/classifier.h"
#include "eval/metrics.h"
#include "test_util.h"

namespace gf {
namespace {

TEST(Convergence, EvaluatorOnMnist) {
  set_threads(1);
  DataOptions d;
  d.dir = std::string(GF_SOURCE_DIR) + "/data/mnist";
  const Dataset train = load_dataset(d, 0);
  d.split = "test";
  const Dataset test = load_dataset(d, 0);
  TrainedClassifier c = train_classifier(train, test, ClassifierOptions{}, false);
  RecordProperty("test_accuracy_permille", static_cast<int>(c.info.test_accuracy * 1000));
  EXPECT_GE(c.info.test_accuracy, 0.975);
  // Real vs real: 2,000 training digits against the 2,000 test digits.
  const double real_fid =
      fid(embed(*c.model, train.x.narrow(0, 0, 2000)).features, embed(*c.model, test.x).features);
  RecordProperty("real_fid_x100", static_cast<int>(real_fid * 100));
  EXPECT_LT(real_fid, 15.0);
  // Save -> load gives the same features.
  test::TempDir dir;
  save_classifier(dir.file("m.clf"), *c.model, c.info);
  TrainedClassifier back = load_classifier(dir.file("m.clf"));
  EXPECT_EQ(back.info.data_hash, c.info.data_hash);
  EXPECT_TRUE(torch::equal(embed(*back.model, test.x.narrow(0, 0, 50)).features,
                           embed(*c.model, test.x.narrow(0, 0, 50)).features));
}

}  // namespace
}  // namespace gf
