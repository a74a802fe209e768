#include "models/registry.h"

#include "core/error.h"
#include "core/names.h"
#include "models/dcgan.h"
#include "models/mlp.h"
#include "models/resnet.h"

namespace gf {

std::vector<std::string> model_names() {
  return {"mlp", "dcgan", "resnet"};
}

void check_model_name(const std::string& name) {
  check_name("model.arch", name, model_names());
}

Gan build_gan(const ModelSpec& spec) {
  spec.validate();
  Gan gan;
  gan.g = build_generator(spec);
  if (spec.arch == "dcgan") {
    gan.d = std::make_shared<DcganDiscriminator>(spec);
  } else if (spec.arch == "resnet") {
    gan.d = std::make_shared<ResnetDiscriminator>(spec);
  } else {
    gan.d = std::make_shared<MlpDiscriminator>(spec);
  }
  return gan;
}

std::shared_ptr<Generator> build_generator(const ModelSpec& spec) {
  spec.validate();
  if (spec.arch == "dcgan") return std::make_shared<DcganGenerator>(spec);
  if (spec.arch == "resnet") return std::make_shared<ResnetGenerator>(spec);
  return std::make_shared<MlpGenerator>(spec);
}

torch::Device module_device(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  return torch::kCPU;
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace gf
