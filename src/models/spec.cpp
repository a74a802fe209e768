#include "models/spec.h"

#include "core/error.h"
#include "models/registry.h"

namespace gf {

int64_t ModelSpec::out_numel() const {
  int64_t n = 1;
  for (int64_t d : out_shape) n *= d;
  return n;
}

void ModelSpec::validate() const {
  check_model_name(arch);
  GF_CHECK(z_dim >= 1 && z_dim <= 4096, "model.z_dim must be between 1 and 4096, got ", z_dim);
  GF_CHECK(latent == "uniform" || latent == "normal", "unknown model.latent '", latent,
           "'; valid: uniform, normal");
  GF_CHECK(g_out == "tanh" || g_out == "linear", "unknown model.g_out '", g_out,
           "'; valid: tanh, linear");
  GF_CHECK(slope >= 0.0 && slope < 1.0, "model.slope must be in [0, 1), got ", slope);
  for (const auto* widths : {&g_hidden, &d_hidden}) {
    GF_CHECK(!widths->empty() && widths->size() <= 16,
             "model.g_hidden and model.d_hidden need 1 to 16 layers");
    for (int64_t w : *widths) {
      GF_CHECK(w >= 1 && w <= 16384, "hidden widths must be between 1 and 16384, got ", w);
    }
  }
  GF_CHECK(!out_shape.empty() && out_shape.size() <= 3, "model.out_shape needs 1 to 3 dimensions");
  for (int64_t d : out_shape) GF_CHECK(d >= 1 && d <= 4096, "bad model.out_shape entry ", d);
  GF_CHECK(out_numel() <= (1 << 22), "model.out_shape is too large (", out_numel(), " values)");
  GF_CHECK(num_classes >= 0 && num_classes <= 1000, "model.num_classes must be 0..1000");
}

nlohmann::json ModelSpec::to_json() const {
  return {{"arch", arch},         {"z_dim", z_dim},         {"latent", latent},
          {"g_hidden", g_hidden}, {"d_hidden", d_hidden},   {"slope", slope},
          {"g_out", g_out},       {"out_shape", out_shape}, {"num_classes", num_classes}};
}

ModelSpec ModelSpec::from_json(const nlohmann::json& j) {
  ModelSpec s;
  s.arch = j.at("arch").get<std::string>();
  s.z_dim = j.at("z_dim").get<int64_t>();
  s.latent = j.at("latent").get<std::string>();
  s.g_hidden = j.at("g_hidden").get<std::vector<int64_t>>();
  s.d_hidden = j.at("d_hidden").get<std::vector<int64_t>>();
  s.slope = j.at("slope").get<double>();
  s.g_out = j.at("g_out").get<std::string>();
  s.out_shape = j.at("out_shape").get<std::vector<int64_t>>();
  s.num_classes = j.at("num_classes").get<int64_t>();
  return s;
}

}  // namespace gf
