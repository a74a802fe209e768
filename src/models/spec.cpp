#include "models/spec.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/names.h"
#include "models/dcgan.h"
#include "models/registry.h"
#include "models/resnet.h"

namespace gf {

int64_t ModelSpec::out_numel() const {
  int64_t n = 1;
  for (int64_t d : out_shape) n *= d;
  return n;
}

int64_t ModelSpec::class_index(const std::string& text, const std::string& where) const {
  const auto it = std::find(class_names.begin(), class_names.end(), text);
  if (it != class_names.end()) return it - class_names.begin();
  char* end = nullptr;
  const long long l = std::strtoll(text.c_str(), &end, 10);
  GF_CHECK(!text.empty() && *end == '\0', "unknown class '", text, "'; ", where,
           class_names.empty() ? concat(" has classes 0..", num_classes - 1)
                               : concat(" has classes ", join_names(class_names), " (or 0..",
                                        num_classes - 1, ")"));
  GF_CHECK(l >= 0 && l < num_classes, "label ", l, " is out of range: ", where, " has classes 0..",
           num_classes - 1);
  return l;
}

double ModelSpec::weights_estimate() const {
  const ModelSpec& s = *this;
  const double out = static_cast<double>(s.out_numel());
  double n = 0;
  if (s.arch == "mlp") {
    for (const auto* widths : {&s.g_hidden, &s.d_hidden}) {
      double prev = widths == &s.g_hidden ? s.z_dim : out;
      for (int64_t w : *widths) {
        n += prev * static_cast<double>(w);
        prev = static_cast<double>(w);
      }
      n += prev * (widths == &s.g_hidden ? out : 1.0);
    }
  } else if (s.arch == "dcgan") {
    // A sample shape dcgan cannot make is the builder's error to report, with its own message.
    DcganGeometry geo;
    try {
      geo = DcganGeometry::of(s);
    } catch (const Error&) {
      return 0;
    }
    const double area = static_cast<double>(geo.base * geo.base);
    const double kernel = s.g_upsample == "resize" ? 9 : 16;
    double g = static_cast<double>(s.g_channels) * std::pow(2.0, geo.steps - 1);
    double d = static_cast<double>(s.d_channels);
    n += s.z_dim * g * area;
    for (int64_t i = 0; i + 1 < geo.steps; ++i, g /= 2, d *= 2) {
      n += (g * g / 2) * kernel + d * d * 32;
    }
    n += g * s.out_shape[0] * kernel + d * area;
  } else if (s.arch == "resnet") {
    const ResnetGeometry geo = ResnetGeometry::of(s);
    const double g = static_cast<double>(s.g_channels), d = static_cast<double>(s.d_channels);
    // G: blocks of two 3x3 convolutions and a 1x1 shortcut. D: the first block's second
    // convolution, then downsampling blocks like G's and flat blocks without a shortcut.
    n += s.z_dim * g * static_cast<double>(geo.base * geo.base) + geo.g_blocks * 19 * g * g;
    n += 9 * d * d + (geo.d_down - 1) * 19 * d * d + ResnetGeometry::kDFlatBlocks * 18 * d * d;
  }
  return n;
}

void ModelSpec::validate() const {
  check_model_name(arch);
  GF_CHECK(z_dim >= 1 && z_dim <= 4096, "model.z_dim must be between 1 and 4096, got ", z_dim);
  check_name("model.latent", latent, {"uniform", "normal"});
  check_name("model.g_out", g_out, {"tanh", "linear"});
  check_name("model.d_norm", d_norm, {"batch", "none"});
  check_name("model.g_upsample", g_upsample, {"transposed", "resize"});
  GF_CHECK(d_mbstd >= 0 && d_mbstd <= 64, "model.d_mbstd must be between 0 and 64, got ", d_mbstd);
  GF_CHECK(d_mbstd == 0 || arch == "mlp" || arch == "dcgan",
           "model.d_mbstd works with model.arch mlp or dcgan, not ", arch);
  check_name("model.conditional", conditional, {"none", "cgan", "acgan", "projection"});
  GF_CHECK(slope >= 0.0 && slope < 1.0, "model.slope must be in [0, 1), got ", slope);
  for (const auto* widths : {&g_hidden, &d_hidden}) {
    GF_CHECK(!widths->empty() && widths->size() <= 16,
             "model.g_hidden and model.d_hidden need 1 to 16 layers");
    for (int64_t w : *widths) {
      GF_CHECK(w >= 1 && w <= 16384, "hidden widths must be between 1 and 16384, got ", w);
    }
  }
  GF_CHECK(g_channels >= 1 && g_channels <= 1024 && d_channels >= 1 && d_channels <= 1024,
           "model.g_channels and model.d_channels must be between 1 and 1024");
  GF_CHECK(embed_dim >= 1 && embed_dim <= 1024, "model.embed_dim must be between 1 and 1024");
  GF_CHECK(!out_shape.empty() && out_shape.size() <= 3, "model.out_shape needs 1 to 3 dimensions");
  for (int64_t d : out_shape) GF_CHECK(d >= 1 && d <= 4096, "bad model.out_shape entry ", d);
  GF_CHECK(out_numel() <= (1 << 22), "model.out_shape is too large (", out_numel(), " values)");
  GF_CHECK(num_classes >= 0 && num_classes <= 1000, "model.num_classes must be 0..1000");
  GF_CHECK(class_names.empty() || static_cast<int64_t>(class_names.size()) == num_classes,
           "model.class_names has ", class_names.size(), " names for ", num_classes, " classes");
  GF_CHECK(!is_conditional() || num_classes >= 2, "model.conditional = ", conditional,
           " needs labelled data with at least 2 classes");
  if (arch == "resnet") ResnetGeometry::of(*this);
  // 2^30 float32 weights are 4 GiB; ganforge's presets have 0.1 to 4 million.
  const double weights = weights_estimate();
  GF_CHECK(weights <= kMaxModelWeights, "the model is too large: G and D would have about ",
           static_cast<int64_t>(std::min(weights, 9e18)), " weights (the limit is ",
           static_cast<int64_t>(kMaxModelWeights), "); make model.g_hidden/d_hidden or ",
           "g_channels/d_channels smaller");
}

// With defaults: checkpoints written before a key existed (class_names) still load.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ModelSpec, arch, z_dim, latent, g_hidden, d_hidden,
                                                slope, g_out, g_channels, d_channels, d_norm,
                                                spectral_norm, conditional, embed_dim, out_shape,
                                                num_classes, class_names, g_upsample, d_mbstd)

nlohmann::json ModelSpec::to_json() const {
  return *this;
}
ModelSpec ModelSpec::from_json(const nlohmann::json& j) {
  return j.get<ModelSpec>();
}

}  // namespace gf
