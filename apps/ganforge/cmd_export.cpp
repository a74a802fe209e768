// `ganforge export`: the generator for other runtimes, as safetensors or ONNX (docs/export.md).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "core/names.h"
#include "models/generator_file.h"
#ifdef GF_WITH_ONNX
#include "export/onnx.h"
#endif

namespace gf::cli {
namespace {

struct ExportOptions {
  std::string checkpoint, format = "safetensors", out, batch;
  bool no_ema = false;
};

void run_export(const ExportOptions& o) {
  check_name("--format", o.format, {"safetensors", "onnx"});
  GF_CHECK(o.batch.empty() || o.format == "onnx", "--batch applies to --format onnx only");
#ifdef GF_WITH_ONNX
  OnnxOptions onnx;
  if (o.format == "onnx") onnx.batch = parse_onnx_batch(o.batch.empty() ? "dynamic" : o.batch);
#else
  GF_CHECK(o.format != "onnx",
           "this ganforge was built without ONNX export (libonnx-dev was not found)");
#endif
  const LoadedGenerator g = load_generator(o.checkpoint, "cpu", !o.no_ema);
  const long long step = g.meta.value("step", int64_t{0});
  const char* which = g.ema ? "EMA" : "raw";
#ifdef GF_WITH_ONNX
  if (o.format == "onnx") {
    export_onnx(g, o.out, onnx);
    const std::string batch = onnx.batch == 0 ? "dynamic" : std::to_string(onnx.batch);
    std::printf("wrote %s (%s generator, step %lld, ONNX opset %lld, IR %lld, batch %s)\n",
                o.out.c_str(), which, step, static_cast<long long>(kOnnxOpset),
                static_cast<long long>(kOnnxIrVersion), batch.c_str());
    return;
  }
#endif
  export_safetensors(g, o.out);
  std::printf("wrote %s (%s generator, step %lld, %lld tensors)\n", o.out.c_str(), which, step,
              static_cast<long long>(g.g->named_parameters().size() + g.g->named_buffers().size()));
}

}  // namespace

Action add_export(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand("export", "write the generator for other runtimes");
  cmd->add_option("checkpoint", o->checkpoint, "checkpoint file, run directory or .safetensors")
      ->required();
  cmd->add_option("--format", o->format, "safetensors | onnx");
  cmd->add_option("--out,-o", o->out, "output file")->required();
  cmd->add_flag("--no-ema", o->no_ema, "export the raw G even when an EMA G exists");
  cmd->add_option("--batch", o->batch, "ONNX batch dimension: dynamic (default) or a fixed size");
  return [o] { run_export(*o); };
}

}  // namespace gf::cli
