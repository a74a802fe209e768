#include "models/registry.h"

#include "core/error.h"
#include "core/names.h"
#include "models/mlp.h"

namespace gf {

std::vector<std::string> model_names() {
  return {"mlp"};
}

void check_model_name(const std::string& name) {
  check_name("model.arch", name, model_names());
}

Gan build_gan(const ModelSpec& spec) {
  spec.validate();
  Gan gan;
  if (spec.arch == "mlp") {
    gan.g = std::make_shared<MlpGenerator>(spec);
    gan.d = std::make_shared<MlpDiscriminator>(spec);
  }
  return gan;
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace gf
