#include <signal.h>

#include <c10/util/Exception.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <thread>

#include "commands.h"
#include "core/file.h"
#include "core/log.h"
#include "core/runtime.h"
#include "models/generator_file.h"
#include "serve/server.h"

namespace gf::cli {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

struct ServeCliOptions {
  std::vector<std::string> checkpoints;
  serve::ServeOptions server;
  int64_t threads = 0;
  std::string device = "cpu";
  bool no_ema = false;
};

void run_serve(ServeCliOptions o) {
  if (o.server.api_key.empty()) {
    if (const char* key = std::getenv("GANFORGE_API_KEY")) o.server.api_key = key;
  }
  o.server.validate();
  set_threads(static_cast<int>(o.threads));
  // SIGINT/SIGTERM set a flag (any thread may receive them: the BLAS library starts threads of
  // its own); a watcher thread sees it and stops the server: no new connections, queued work
  // finishes, exit 0.
  struct sigaction action {};
  action.sa_handler = [](int) { g_stop_signal = 1; };
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  serve::Server server(o.server);
  const int port = server.bind();
  std::atomic<bool> done{false};
  std::atomic<bool> log_failed{false};
  std::thread watcher([&] {
    const timespec tick{0, 50 * 1000 * 1000};
    bool announced = false;
    while (!done) {
      // A log that cannot be written (a full disk) stops the server: it would serve unlogged.
      if (!log_write_error().empty()) log_failed = true;
      // Repeated until listen() returns, in case the signal came before it started.
      if (g_stop_signal || log_failed) {
        if (!announced) log_info("serve: shutting down: finishing requests in flight");
        announced = true;
        server.stop();
      }
      nanosleep(&tick, nullptr);
    }
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& t;
    ~Join() {
      done = true;
      t.join();
    }
  } join{done, watcher};

  log_info("serve: listening on http://", o.server.host, ":", port, "/",
           o.server.api_key.empty() ? "" : " (API key required)");
  if (o.server.api_key.empty() && !serve::is_loopback_host(o.server.host))
    log_info("serve: WARNING: ", o.server.host,
             " is reachable from other machines and no API key is set: anyone who reaches port ",
             port, " can generate images and read /metrics; set --api-key KEY (or ",
             "GANFORGE_API_KEY), or bind 127.0.0.1");
  std::thread loader([&] {
    try {
      for (const auto& arg : o.checkpoints) {
        std::string path;
        const std::string name = serve::model_name_for(arg, &path);
        LoadedGenerator g = load_generator(path, o.device, !o.no_ema);
        log_info("serve: model '", name, "' from ", g.path, " (step ",
                 g.meta.value("step", int64_t{0}), g.ema ? ", EMA" : "", ")");
        server.add_model(name, std::move(g));
      }
      server.set_ready();
      log_info("serve: ready");
    } catch (const std::exception& e) {
      // A model that cannot be served is a startup error, like a bad flag: one line, no trace.
      const auto* fs_error = dynamic_cast<const std::filesystem::filesystem_error*>(&e);
      const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
      log_info("error: ", fs_error      ? describe(*fs_error)
                          : torch_error ? torch_error->what_without_backtrace()
                                        : e.what());
      std::_Exit(1);
    }
  });
  server.listen();
  loader.join();
  if (log_failed) throw Error(log_write_error());
  log_info("serve: stopped");
}

}  // namespace

Action add_serve(CLI::App& app) {
  auto o = std::make_shared<ServeCliOptions>();
  auto* cmd =
      app.add_subcommand("serve", "serve generators over HTTP: API, web page, Prometheus metrics");
  cmd->add_option("checkpoints", o->checkpoints,
                  "checkpoint, run directory or .safetensors; NAME=PATH names the model")
      ->required();
  cmd->add_option("--host", o->server.host, "address to bind (default loopback only)");
  cmd->add_option("--port", o->server.port, "port (0: any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", o->server.api_key,
                  "require this key (Authorization: Bearer KEY); env GANFORGE_API_KEY");
  cmd->add_option("--max-batch", o->server.max_batch,
                  "images per forward pass; also the most one request may ask for")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--queue", o->server.queue, "requests waiting per model before 429")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_option("--timeout", o->server.timeout_s, "seconds a request may wait for its images")
      ->check(CLI::Range(0.001, 3600.0));
  cmd->add_option("--threads", o->threads, "generation (intra-op) threads (0: default)")
      ->check(CLI::Range(int64_t{0}, int64_t{1024}));
  cmd->add_option("--threads-http", o->server.http_threads,
                  "HTTP threads, one per open connection (0: max(64, cores))")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--max-connections", o->server.max_connections,
                  "open connections at once; more are answered 503 at once")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--read-timeout", o->server.read_timeout_s,
                  "seconds a request (line, headers, body) may take to arrive; then 408")
      ->check(CLI::Range(0.001, 3600.0));
  cmd->add_option("--write-timeout", o->server.write_timeout_s,
                  "seconds a client may take to receive a response; then it is cut off")
      ->check(CLI::Range(0.001, 3600.0));
  cmd->add_option("--keep-alive", o->server.keep_alive_s,
                  "seconds an idle connection stays open between requests")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N");
  cmd->add_flag("--no-ema", o->no_ema, "serve the raw G even when a checkpoint has an EMA G");
  return [o] { run_serve(*o); };
}

}  // namespace gf::cli
