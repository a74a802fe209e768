// What `ganforge sample` computes, as raw little-endian files for tests/onnx/check_onnx.mjs:
//   z.f32       [n, z_dim] float32, the latents of images 0..n-1 of SEED (seeded_latents)
//   label.i64   [n] int64, the labels sample gives them (default_labels; conditional models only)
//   image.f32   [n, C, H, W] float32, the generator's output (generate, as sample calls it)
//   pixels.u8   the same images as sample's .idx data (unit_to_pixels; channels last for colour)
//   meta.json   {n, z_dim, shape, conditional, num_classes, ema}
// Usage: ganforge_onnx_reference CHECKPOINT_OR_RUN SEED N OUT_DIR [--no-ema]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "models/generator_file.h"
#include "models/sampler.h"

namespace {

void write_raw(const std::filesystem::path& path, const torch::Tensor& t) {
  const auto c = t.contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
  GF_CHECK(out.good(), "cannot write ", path.string());
}

int run(int argc, char** argv) {
  GF_CHECK(argc == 5 || (argc == 6 && std::string(argv[5]) == "--no-ema"),
           "usage: ganforge_onnx_reference CHECKPOINT_OR_RUN SEED N OUT_DIR [--no-ema]");
  const auto seed = static_cast<uint64_t>(std::stoull(argv[2]));
  const int64_t n = std::stoll(argv[3]);
  const std::filesystem::path dir = argv[4];
  std::filesystem::create_directories(dir);
  gf::set_threads(0);
  const gf::LoadedGenerator model = gf::load_generator(argv[1], "cpu", argc == 5);
  const gf::ModelSpec& spec = model.spec;
  const auto z = gf::seeded_latents(spec, seed, 0, n);
  const auto labels = gf::default_labels(spec, 0, n);
  const auto images = gf::generate(*model.g, spec, seed, n, 256, 0, labels);
  write_raw(dir / "z.f32", z);
  if (labels.defined()) write_raw(dir / "label.i64", labels);
  write_raw(dir / "image.f32", images);
  const auto pixels = gf::unit_to_pixels(images);
  write_raw(dir / "pixels.u8", images.size(1) == 1 ? pixels : pixels.permute({0, 2, 3, 1}));
  const nlohmann::json meta = {{"n", n},
                               {"z_dim", spec.z_dim},
                               {"shape", images.sizes().vec()},
                               {"conditional", spec.is_conditional()},
                               {"num_classes", spec.num_classes},
                               {"ema", model.ema}};
  std::ofstream(dir / "meta.json") << meta.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gf::ensure_fast_blas(argc, argv);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
