// `ganforge export`: the generator for other runtimes, as safetensors or ONNX, or a static web
// bundle that generates in the browser (docs/export.md).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "core/names.h"
#include "models/generator_file.h"
#ifdef GF_WITH_ONNX
#include "export/onnx.h"
#include "export/web.h"
#endif

namespace gf::cli {
namespace {

struct ExportOptions {
  std::string checkpoint, format = "safetensors", out, batch, ort_web;
  bool no_ema = false;
};

void run_export(const ExportOptions& o) {
  check_name("--format", o.format, {"safetensors", "onnx", "web"});
  GF_CHECK(o.batch.empty() || o.format == "onnx", "--batch applies to --format onnx only");
  GF_CHECK(o.ort_web.empty() || o.format == "web", "--ort-web applies to --format web only");
#ifdef GF_WITH_ONNX
  OnnxOptions onnx;
  if (o.format == "onnx") onnx.batch = parse_onnx_batch(o.batch.empty() ? "dynamic" : o.batch);
#else
  GF_CHECK(o.format != "onnx" && o.format != "web", "this ganforge was built without ONNX export ",
           "(libonnx-dev was not found), which --format ", o.format, " needs");
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
  if (o.format == "web") {
    WebOptions web;
    if (!o.ort_web.empty()) web.ort_web = o.ort_web;
    const WebBundle b = export_web(g, o.out, web);
    std::printf(
        "wrote %s (%s generator, step %lld; web bundle: %lld files, %.1f MB, "
        "onnxruntime-web %s)\n",
        o.out.c_str(), which, step, static_cast<long long>(b.files),
        static_cast<double>(b.bytes) / 1e6, b.ort_web_version.c_str());
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
  cmd->add_option("--format", o->format, "safetensors | onnx | web");
  cmd->add_option("--out,-o", o->out, "output file (a folder for --format web)")->required();
  cmd->add_flag("--no-ema", o->no_ema, "export the raw G even when an EMA G exists");
  cmd->add_option("--batch", o->batch, "ONNX batch dimension: dynamic (default) or a fixed size");
  cmd->add_option("--ort-web", o->ort_web,
                  "web: where onnxruntime-web is (npm prefix, package or dist folder; default "
                  "/usr/local/share/ganforge/ort-web)");
  return [o] { run_export(*o); };
}

}  // namespace gf::cli
