// The image-folder reader: decoding and preprocessing against PIL, ImageFolder labels, the
// packed cache and its invalidation, and bad files (each one a clear error naming the file).
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "core/file.h"
#include "data/dataset.h"
#include "data/folder_tools.h"
#include "data/idx_dir.h"
#include "data/image_file.h"
#include "data/image_folder.h"
#include "io/image.h"
#include "test_util.h"

namespace gf {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::TempDir;

// A w x h PNG whose pixels are a function of (x, y, channel) so images differ.
std::string png_bytes(int64_t w, int64_t h, int64_t c, int seed = 0) {
  auto t = (torch::arange(h * w * c, torch::kInt64) * (7 + seed) % 251).to(torch::kUInt8);
  return encode_png(t.view({h, w, c}));
}

void put(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

DataOptions folder_options(const TempDir& t, const std::string& dir, int64_t res = 8) {
  DataOptions o;
  o.dataset = "folder";
  o.dir = (t.path() / dir).string();
  o.resolution = res;
  o.cache_dir = (t.path() / "cache").string();
  return o;
}

TEST(ImageFile, MatchesPilOnCropPadStretchAlphaAndLuma) {
  const auto golden = test::golden("images.json");
  ASSERT_GE(golden.size(), 14u);  // PNG in every mode, BMP, TGA and an animated GIF
  for (const auto& [name, g] : golden.items()) {
    ImagePrep prep;
    prep.resolution = g["resolution"];
    prep.resize = g["resize"];
    prep.channels = g["channels"];
    prep.background = parse_colour(g["background"]);
    const std::string path = std::string(GF_GOLDEN_DIR) + "/images/" + g["file"].get<std::string>();
    auto ours = prepare_image(read_file(path), path, prep).to(torch::kInt32);
    auto pil = torch::tensor(g["pixels"].get<std::vector<int>>(), torch::kInt32)
                   .view(g["shape"].get<std::vector<int64_t>>());
    ASSERT_EQ(ours.sizes(), pil.sizes()) << name;
    const auto diff = (ours - pil).abs();
    // stb_image_resize and PIL compute the same filters with different fixed-point rounding:
    // at most one level apart, and most pixels equal. A wrong filter, offset or alpha blend is
    // off by tens of levels.
    EXPECT_LE(diff.max().item<int>(), 1) << name;
    EXPECT_LT(diff.to(torch::kFloat64).mean().item<double>(), 0.25) << name;
  }
}

TEST(ImageFile, BadFilesAreClearErrorsNamingTheFile) {
  ImagePrep prep;
  const std::string good = png_bytes(6, 5, 3);
  auto error = [&](const std::string& bytes) {
    return error_of([&] { prepare_image(bytes, "x/bad.png", prep); });
  };
  EXPECT_NE(error("").find("x/bad.png: empty file"), std::string::npos);
  EXPECT_NE(error("hello, I am text").find("not an image"), std::string::npos);
  // Formats stb_image reads but ganforge does not take: PNM (whose 16-bit reader overruns its
  // buffer, docs/reliability.md defect 8; the fuzzer's input), PSD, Radiance HDR.
  for (const std::string& other :
       {std::string("P67\n67\n666\n6666666666\n66666666666"), std::string("P5\n2 2\n255\nabcd"),
        std::string("8BPS\0\1", 6) + std::string(40, '\0'),
        std::string("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n\1\1\1\1")}) {
    EXPECT_NE(error(other).find("not an image ganforge can read (PNG, JPEG, BMP, GIF and TGA"),
              std::string::npos)
        << error(other);
  }
  EXPECT_NE(error(good.substr(0, good.size() / 2)).find("truncated PNG"), std::string::npos);
  std::string bad_crc = good;
  bad_crc[bad_crc.size() - 20] ^= 0x55;  // a byte inside the IDAT data
  EXPECT_NE(error(bad_crc).find("bad CRC"), std::string::npos);
  // A header claiming 9000 x 9000 pixels (valid CRC; stb_image itself would accept it) is
  // refused before decoding.
  std::string huge = good;
  for (int i = 0; i < 2; ++i) {
    const uint32_t v = 9000;
    for (int b = 0; b < 4; ++b) huge[16 + 4 * i + b] = static_cast<char>(v >> (24 - 8 * b));
  }
  const uLong crc =
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(huge.data() + 12), 17);
  for (int b = 0; b < 4; ++b) huge[29 + b] = static_cast<char>(crc >> (24 - 8 * b));
  EXPECT_NE(error(huge).find("beyond the limit"), std::string::npos) << error(huge);
  // A JPEG cut in half: stb_image would fill the rest with grey.
  std::string jpeg;
  auto sink = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size);
  };
  auto px = (torch::arange(64 * 64 * 3) % 253).to(torch::kUInt8);
  ASSERT_TRUE(stbi_write_jpg_to_func(sink, &jpeg, 64, 64, 3, px.data_ptr<uint8_t>(), 90));
  EXPECT_EQ(prepare_image(jpeg, "a.jpg", prep).sizes(), (std::vector<int64_t>{32, 32, 3}));
  EXPECT_NE(error_of([&] {
              prepare_image(jpeg.substr(0, jpeg.size() / 2), "a.jpg", prep);
            }).find("truncated JPEG"),
            std::string::npos);
}

TEST(ImageFile, JpegsOfRealEncodersDecodeCloseToPil) {
  // Baseline 4:2:0 and 4:4:4, progressive, optimised tables, restart markers, grey, EXIF and a
  // trailer: the structure check accepts them all, and stb_image's pixels stay within the
  // differences of two JPEG decoders (IDCT rounding, chroma upsampling) of libjpeg's; a wrong
  // table or a missed scan is tens of levels off.
  const auto golden = test::golden("jpeg.json");
  ASSERT_GE(golden.size(), 8u);
  for (const auto& [name, g] : golden.items()) {
    const std::string path = std::string(GF_GOLDEN_DIR) + "/jpeg/" + g["file"].get<std::string>();
    ImagePrep prep;
    prep.resolution = 24;
    auto ours = prepare_image(read_file(path), path, prep).to(torch::kInt32);
    auto pil = torch::tensor(g["pixels"].get<std::vector<int>>(), torch::kInt32)
                   .view(g["shape"].get<std::vector<int64_t>>());
    ASSERT_EQ(ours.sizes(), pil.sizes()) << name;
    const auto diff = (ours - pil).abs().to(torch::kFloat64);
    // Measured: mean 0.005-0.13, max 1-3 levels.
    EXPECT_LE(diff.mean().item<double>(), 0.5) << name;
    EXPECT_LE(diff.max().item<double>(), 6.0) << name;
  }
}

// The offset of the first segment with `marker` (its FF byte) in a JPEG.
size_t jpeg_segment(const std::string& j, unsigned char marker) {
  size_t pos = 2;
  while (pos + 4 <= j.size() && static_cast<unsigned char>(j[pos + 1]) != marker) {
    pos += 2 + ((static_cast<size_t>(static_cast<unsigned char>(j[pos + 2])) << 8) |
                static_cast<unsigned char>(j[pos + 3]));
  }
  return pos;
}

TEST(ImageFile, JpegWhoseScanUsesUndefinedTablesIsRefused) {
  // stb_image decodes such a scan with whatever its table memory held before: out-of-bounds and
  // use-after-free reads that depend on earlier decodes (docs/reliability.md, defect 7).
  const std::string good = read_file(std::string(GF_GOLDEN_DIR) + "/jpeg/baseline_420.jpg");
  ImagePrep prep;
  prep.resolution = 24;
  auto error = [&](const std::string& bytes) {
    return error_of([&] { prepare_image(bytes, "a.jpg", prep); });
  };
  ASSERT_NO_THROW(prepare_image(good, "a.jpg", prep));
  const size_t sos = jpeg_segment(good, 0xda);
  ASSERT_LT(sos, good.size());
  // The scan's first component: DC table 0 / AC table 0, as PIL writes them.
  ASSERT_EQ(static_cast<unsigned char>(good[sos + 6]), 0x00);
  std::string bad = good;
  bad[sos + 6] = 0x02;  // AC table 2: never defined
  EXPECT_NE(error(bad).find("uses AC Huffman table 2, which the file does not define"),
            std::string::npos)
      << error(bad);
  bad[sos + 6] = 0x30;  // DC table 3
  EXPECT_NE(error(bad).find("uses DC Huffman table 3"), std::string::npos) << error(bad);
  // The frame's first component on quantization table 3, which no DQT defines.
  const size_t sof = jpeg_segment(good, 0xc0);
  bad = good;
  bad[sof + 4 + 6 + 2] = 3;
  EXPECT_NE(error(bad).find("uses quantization table 3"), std::string::npos) << error(bad);
  // A segment whose length runs past the end, and data after the scan without an end marker.
  const std::string cut = good.substr(0, jpeg_segment(good, 0xc4) + 10);
  EXPECT_NE(error(cut).find("truncated JPEG (a segment runs past the end)"), std::string::npos)
      << error(cut);
  EXPECT_NE(error(good.substr(0, good.size() - 2)).find("truncated JPEG"), std::string::npos);
}

TEST(ImageFile, TinyAndExtremeAspectImagesWork) {
  ImagePrep prep;
  prep.resolution = 16;
  EXPECT_EQ(prepare_image(png_bytes(1, 1, 3), "1x1.png", prep).sizes(),
            (std::vector<int64_t>{16, 16, 3}));
  // 40000 x 1: the central 1 x 1 square, grown (center-crop); padded, a 16 x 1 strip centred on
  // the background (resized first: a 40000 x 40000 canvas would be 4.8 GB).
  const std::string wide = png_bytes(40000, 1, 1);
  EXPECT_EQ(prepare_image(wide, "wide.png", prep).sizes(), (std::vector<int64_t>{16, 16, 3}));
  prep.resize = "pad";
  auto padded = prepare_image(wide, "wide.png", prep);
  EXPECT_EQ(padded.sizes(), (std::vector<int64_t>{16, 16, 3}));
  EXPECT_EQ(padded[0][0][0].item<int>(), 255);  // background above the strip
  prep.resize = "stretch";
  EXPECT_EQ(prepare_image(wide, "wide.png", prep).sizes(), (std::vector<int64_t>{16, 16, 3}));
}

TEST(ImageFolder, LabelsFollowImageFolder) {
  TempDir t;
  put(t.path() / "d/cats/a.png", png_bytes(8, 8, 3));
  put(t.path() / "d/cats/deep/b.jpg", "");  // nested: still a cat (an empty file: skipped below)
  put(t.path() / "d/ants/c.png", png_bytes(8, 8, 3, 1));
  put(t.path() / "d/ants/notes.txt", "ignored");
  put(t.path() / "d/.hidden/x.png", png_bytes(8, 8, 3));
  const FolderScan scan = scan_image_folder((t.path() / "d").string());
  EXPECT_EQ(scan.classes, (std::vector<std::string>{"ants", "cats"}));
  ASSERT_EQ(scan.files.size(), 3u);
  EXPECT_EQ(scan.files[0].rel, "ants/c.png");
  EXPECT_EQ(scan.files[0].label, 0);
  EXPECT_EQ(scan.files[2].rel, "cats/deep/b.jpg");
  EXPECT_EQ(scan.files[2].label, 1);
  EXPECT_EQ(scan.ignored.at(".txt"), 1);
  // The empty file is an error naming it, or skipped with skip_bad.
  DataOptions o = folder_options(t, "d");
  o.test_dir = o.dir;  // every file in both splits: the hold-out is tested separately
  EXPECT_NE(error_of([&] { load_dataset(o, 0); }).find("b.jpg: empty file"), std::string::npos);
  o.skip_bad = true;
  const Dataset d = load_dataset(o, 0);
  EXPECT_EQ(d.size(), 2);
  EXPECT_EQ(d.class_names, scan.classes);
  EXPECT_TRUE(torch::equal(d.y, torch::tensor({0, 1}, torch::kInt64)));
  EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{3, 8, 8}));
  // A class whose only image is bad is left empty by skipping: an error naming the class.
  fs::remove(t.path() / "d/cats/a.png");
  EXPECT_NE(
      error_of([&] { load_dataset(o, 0); }).find("class folder 'cats' has no readable images"),
      std::string::npos);
}

TEST(ImageFolder, UnlabelledGreyAndStructureErrors) {
  TempDir t;
  for (int i = 0; i < 20; ++i)
    put(t.path() / "g" / (std::to_string(i) + ".png"), png_bytes(8, 8, 1, i));
  DataOptions o = folder_options(t, "g");
  const Dataset train = load_dataset(o, 0);
  o.split = "test";
  const Dataset test = load_dataset(o, 0);
  EXPECT_FALSE(train.y.defined());
  EXPECT_EQ(train.x.size(1), 1);  // every image grey: one channel
  EXPECT_EQ(train.size() + test.size(), 20);
  EXPECT_GT(test.size(), 0);
  put(t.path() / "g/sub/x.png", png_bytes(8, 8, 3));
  EXPECT_NE(error_of([&] { scan_image_folder((t.path() / "g").string()); }).find("both"),
            std::string::npos);
  fs::create_directories(t.path() / "empty");
  EXPECT_NE(error_of([&] { scan_image_folder((t.path() / "empty").string()); }).find("no images"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              scan_image_folder((t.path() / "missing").string());
            }).find("no such directory"),
            std::string::npos);
  put(t.path() / "loop/a/x.png", png_bytes(8, 8, 3));
  fs::create_directory_symlink(t.path() / "loop", t.path() / "loop/a/back");
  EXPECT_NE(error_of([&] { scan_image_folder((t.path() / "loop").string()); }).find("symlink loop"),
            std::string::npos);
  put(t.path() / "c/one/x.png", png_bytes(8, 8, 3));
  fs::create_directories(t.path() / "c/two");
  EXPECT_NE(error_of([&] {
              scan_image_folder((t.path() / "c").string());
            }).find("class folder 'two' has no images"),
            std::string::npos);
}

TEST(ImageFolder, CacheIsReusedAndInvalidatedByChanges) {
  TempDir t;
  for (int i = 0; i < 12; ++i) {
    put(t.path() / "d" / (i % 2 ? "b" : "a") / (std::to_string(i) + ".png"), png_bytes(9, 9, 3, i));
  }
  DataOptions o = folder_options(t, "d");
  o.test_dir = o.dir;
  auto load = [&] { return load_image_folder(o); };
  FolderSamples first = load();
  EXPECT_FALSE(first.from_cache);
  FolderSamples second = load();
  EXPECT_TRUE(second.from_cache);
  EXPECT_TRUE(torch::equal(first.pixels, second.pixels));
  EXPECT_TRUE(torch::equal(first.labels, second.labels));
  // A changed file (new content and size), an added file, a removed file, other options: misses.
  put(t.path() / "d/a/0.png", png_bytes(10, 9, 3, 99));
  FolderSamples changed = load();
  EXPECT_FALSE(changed.from_cache);
  EXPECT_FALSE(torch::equal(changed.pixels, first.pixels));
  EXPECT_TRUE(load().from_cache);
  put(t.path() / "d/a/new.png", png_bytes(9, 9, 3, 5));
  EXPECT_FALSE(load().from_cache);
  EXPECT_EQ(load().pixels.size(0), 13);
  fs::remove(t.path() / "d/a/new.png");
  EXPECT_TRUE(load().from_cache);  // the earlier entry matches again
  o.resolution = 4;
  EXPECT_FALSE(load().from_cache);
}

TEST(ImageFolder, PackIsAnIdxDirectoryThatLoadsBack) {
  TempDir t;
  for (int i = 0; i < 30; ++i) {
    put(t.path() / "d" / (i % 3 ? "x" : "y") / (std::to_string(i) + ".png"),
        png_bytes(12, 10, 3, i));
  }
  DataOptions o = folder_options(t, "d");
  const std::string out = (t.path() / "pack").string();
  const nlohmann::json info = pack_image_folder(o, out);
  EXPECT_EQ(info["train"]["images"].get<int64_t>() + info["test"]["images"].get<int64_t>(), 30);
  EXPECT_EQ(dataset_kind_of(out), "idx");
  const Dataset direct = load_dataset(o, 0);
  DataOptions p = o;
  p.dir = out;
  const Dataset packed = load_dataset(p, 0);
  EXPECT_TRUE(torch::equal(direct.x, packed.x));
  EXPECT_TRUE(torch::equal(direct.y, packed.y));
  EXPECT_EQ(packed.class_names, (std::vector<std::string>{"x", "y"}));
  EXPECT_NE(error_of([&] { pack_image_folder(o, out); }).find("already exists"), std::string::npos);
  // The mirror doubles the training split with left-right flips.
  o.mirror = true;
  const Dataset mirrored = load_dataset(o, 0);
  EXPECT_EQ(mirrored.size(), 2 * direct.size());
  EXPECT_TRUE(torch::equal(mirrored.x.narrow(0, direct.size(), direct.size()), direct.x.flip({3})));
}

}  // namespace
}  // namespace gf
