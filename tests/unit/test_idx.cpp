#include <gtest/gtest.h>

#include <fstream>

#include "core/file.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/loader.h"
#include "test_util.h"

namespace gf {
namespace {

using test::error_of;
using test::TempDir;

IdxArray small_images(int64_t n) {
  IdxArray a;
  a.dims = {n, 28, 28};
  a.data.resize(n * 28 * 28);
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<uint8_t>(i * 7);
  return a;
}

IdxArray labels(int64_t n) {
  IdxArray a;
  a.dims = {n};
  for (int64_t i = 0; i < n; ++i) a.data.push_back(static_cast<uint8_t>(i % 10));
  return a;
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(Idx, RoundTripGzipAndRaw) {
  TempDir dir;
  const IdxArray a = small_images(5);
  for (const std::string name : {"x.idx", "x.idx.gz"}) {
    write_idx(dir.file(name), a);
    const IdxArray b = read_idx(dir.file(name));
    EXPECT_EQ(b.dims, a.dims) << name;
    EXPECT_EQ(b.data, a.data) << name;
  }
  // The format is detected from content: a gzip file without .gz still reads.
  std::filesystem::rename(dir.file("x.idx.gz"), dir.file("renamed"));
  EXPECT_EQ(read_idx(dir.file("renamed")).data, a.data);
}

TEST(Idx, TruncatedRawAndGzip) {
  TempDir dir;
  write_idx(dir.file("a.idx"), small_images(3));
  std::string bytes = read_file(dir.file("a.idx"));
  write_raw(dir.file("cut.idx"), bytes.substr(0, bytes.size() - 100));
  EXPECT_NE(error_of([&] { read_idx(dir.file("cut.idx")); }).find("truncated"), std::string::npos);
  write_raw(dir.file("head.idx"), bytes.substr(0, 6));
  EXPECT_NE(error_of([&] { read_idx(dir.file("head.idx")); }).find("head.idx"), std::string::npos);
  write_raw(dir.file("long.idx"), bytes + "xyz");
  EXPECT_NE(error_of([&] { read_idx(dir.file("long.idx")); }).find("trailing"), std::string::npos);

  write_idx(dir.file("a.idx.gz"), small_images(3));
  std::string gz = read_file(dir.file("a.idx.gz"));
  write_raw(dir.file("cut.idx.gz"), gz.substr(0, gz.size() / 2));
  const std::string msg = error_of([&] { read_idx(dir.file("cut.idx.gz")); });
  EXPECT_NE(msg.find("cut.idx.gz"), std::string::npos) << msg;
}

TEST(Idx, CorruptGzipData) {
  TempDir dir;
  write_idx(dir.file("a.idx.gz"), small_images(20));
  std::string gz = read_file(dir.file("a.idx.gz"));
  for (size_t i = 20; i < gz.size() - 20; i += 7) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  write_raw(dir.file("bad.idx.gz"), gz);
  EXPECT_NE(error_of([&] { read_idx(dir.file("bad.idx.gz")); }).find("bad.idx.gz"),
            std::string::npos);
}

TEST(Idx, WrongMagicAndType) {
  TempDir dir;
  write_raw(dir.file("png.idx"), std::string("\x89PNG\r\n\x1a\n", 8) + std::string(64, 'x'));
  EXPECT_NE(error_of([&] { read_idx(dir.file("png.idx")); }).find("magic"), std::string::npos);
  write_raw(dir.file("float.idx"), std::string("\0\0\x0d\x01\0\0\0\x01\0\0\0\0", 12));
  EXPECT_NE(error_of([&] { read_idx(dir.file("float.idx")); }).find("unsupported idx data type"),
            std::string::npos);
  write_raw(dir.file("dims.idx"), std::string("\0\0\x08\x09", 4));
  EXPECT_NE(error_of([&] { read_idx(dir.file("dims.idx")); }).find("dimensions"),
            std::string::npos);
}

TEST(Idx, OversizedDimensionsAreRejectedBeforeAllocating) {
  TempDir dir;
  // Claims 4e9 x 4e9 x 4e9 bytes in a 16-byte file.
  write_raw(dir.file("huge.idx"),
            std::string("\0\0\x08\x03\xee\x6b\x28\0\xee\x6b\x28\0\xee\x6b\x28\0", 16));
  EXPECT_NE(error_of([&] { read_idx(dir.file("huge.idx")); }).find("limit"), std::string::npos);
  // Within the limit but larger than the file.
  write_raw(dir.file("big.idx"), std::string("\0\0\x08\x01\x01\0\0\0", 8) + "abc");
  EXPECT_NE(error_of([&] { read_idx(dir.file("big.idx")); }).find("truncated"), std::string::npos);
}

TEST(Idx, DatasetPairsImagesWithLabels) {
  TempDir dir;
  write_idx(dir.file("train-images-idx3-ubyte.gz"), small_images(12));
  write_idx(dir.file("train-labels-idx1-ubyte"), labels(12));
  DataOptions o;
  o.dataset = "idx";
  o.dir = dir.path().string();
  Dataset d = load_dataset(o, 0);
  EXPECT_EQ(d.x.sizes(), (std::vector<int64_t>{12, 1, 28, 28}));
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.y[11].item<int64_t>(), 1);
  EXPECT_LE(d.x.max().item<float>(), 1.0f);
  EXPECT_GE(d.x.min().item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(d.x[0][0][0][0].item<float>(), -1.0f);  // pixel 0 -> -1

  write_idx(dir.file("train-labels-idx1-ubyte"), labels(11));
  const std::string msg = error_of([&] { load_dataset(o, 0); });
  EXPECT_NE(msg.find("12 images"), std::string::npos) << msg;
  EXPECT_NE(msg.find("11 labels"), std::string::npos) << msg;

  o.split = "test";
  EXPECT_NE(error_of([&] { load_dataset(o, 0); }).find("t10k-images-idx3-ubyte"),
            std::string::npos);
  o.dataset = "cifar";
  EXPECT_NE(
      error_of([&] { load_dataset(o, 0); }).find("valid: mnist, fashion-mnist, idx, folder, ring"),
      std::string::npos);
}

TEST(Idx, CorruptLabelsAreErrorsNotExtraClasses) {
  TempDir dir;
  write_idx(dir.file("train-images-idx3-ubyte"), small_images(30));
  IdxArray bad = labels(30);
  bad.data[17] = 200;  // one corrupt byte
  write_idx(dir.file("train-labels-idx1-ubyte"), bad);
  DataOptions o;
  o.dir = dir.path().string();
  // A named set has 10 classes: the file and the index are named.
  o.dataset = "mnist";
  std::string msg = error_of([&] { load_dataset(o, 0); });
  EXPECT_NE(msg.find("train-labels-idx1-ubyte: label 200 at index 17 is outside the 10 classes"),
            std::string::npos)
      << msg;
  // Generic idx data: 0-9 and 200 leave 190 classes without an image.
  o.dataset = "idx";
  msg = error_of([&] { load_dataset(o, 0); });
  EXPECT_NE(msg.find("190 of those 201 classes have no image (label 200 first at index 17)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("data.num_classes=201"), std::string::npos) << msg;
  // ... unless the number of classes is configured.
  o.num_classes = 201;
  EXPECT_EQ(load_dataset(o, 0).num_classes, 201);
  o.num_classes = 12;
  EXPECT_NE(error_of([&] { load_dataset(o, 0); }).find("outside the 12 classes"),
            std::string::npos);
  // A test split may miss classes (it is small); its labels still must be in range.
  o.num_classes = 0;
  write_idx(dir.file("train-labels-idx1-ubyte"), labels(30));
  EXPECT_EQ(load_dataset(o, 0).num_classes, 10);
}

TEST(Idx, FashionMnistLoadsAsTheUserGetsIt) {
  // Debian's dataset-fashion-mnist, as `make data` links it into data/fashion-mnist: 60,000
  // training and 10,000 test images of 10 classes, pixels scaled to [-1, 1].
  DataOptions o;
  o.dataset = "fashion-mnist";
  o.dir = std::string(GF_SOURCE_DIR) + "/data/fashion-mnist";
  for (const auto& [split, n] :
       {std::pair<std::string, int64_t>{"train", 60000}, {"test", 10000}}) {
    o.split = split;
    const Dataset d = load_dataset(o, 0);
    EXPECT_EQ(d.size(), n) << split;
    EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{1, 28, 28}));
    EXPECT_EQ(d.num_classes, 10);
    EXPECT_EQ(d.y.min().item<int64_t>(), 0);
    EXPECT_EQ(d.y.max().item<int64_t>(), 9);
    // Balanced: 6,000 (1,000) of each class.
    EXPECT_TRUE(torch::equal(torch::bincount(d.y), torch::full({10}, n / 10, torch::kInt64)));
    EXPECT_GE(d.x.min().item<float>(), -1.0f);
    EXPECT_LE(d.x.max().item<float>(), 1.0f);
    EXPECT_GT(d.x.max().item<float>(), 0.9f);  // not all dark: the scaling is right
  }
}

TEST(Loader, ShufflesReproduciblyAndDropsLast) {
  Dataset d;
  d.x = torch::arange(10, torch::kFloat32).view({10, 1});
  d.y = torch::arange(10, torch::kInt64);
  BatchLoader a(d, 3, 42), b(d, 3, 42), c(d, 3, 43);
  EXPECT_EQ(a.batches_per_epoch(), 3);  // 10 / 3, the last partial batch dropped
  std::vector<int64_t> seen;
  for (int64_t i = 0; i < 3; ++i) {
    auto x = a.batch(i);
    EXPECT_TRUE(torch::equal(x.x, b.batch(i).x));
    EXPECT_TRUE(torch::equal(x.x.view({-1}).to(torch::kInt64), x.y));  // labels stay paired
    for (int64_t k = 0; k < 3; ++k) seen.push_back(x.y[k].item<int64_t>());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());  // no repeats within an epoch
  EXPECT_FALSE(torch::equal(a.batch(0).x, c.batch(0).x));        // another seed, another order
  EXPECT_FALSE(torch::equal(a.batch(0).x, a.batch(3).x));        // another epoch, another order
}

}  // namespace
}  // namespace gf
