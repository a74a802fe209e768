#include "serve/server.h"

#include <httplib.h>
#include <openssl/crypto.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/error.h"
#include "core/file.h"
#include "core/json_config.h"
#include "core/log.h"
#include "io/image.h"
#include "models/sampler.h"
#include "serve/batcher.h"
#include "serve/connections.h"
#include "serve/generate.h"
#include "serve/prometheus.h"
#include "serve/repair.h"
#include "serve_page.h"

namespace gf::serve {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kRoutes = {"/",          "/health",      "/metrics",
                                          "/v1/models", "/v1/generate", "/v1/repair"};

bool valid_model_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  }
  return true;
}

// The latest evaluation a run recorded at or before the checkpoint's step, when the checkpoint
// lives in a run directory (<run>/checkpoints/x.ckpt beside <run>/metrics.jsonl).
json known_metrics(const std::string& checkpoint, int64_t step) {
  const fs::path metrics = fs::path(checkpoint).parent_path().parent_path() / "metrics.jsonl";
  if (fs::path(checkpoint).parent_path().filename() != "checkpoints" || !fs::exists(metrics))
    return nullptr;
  json best = nullptr;
  try {
    for (const auto& rec : read_jsonl(metrics.string())) {
      if (rec.contains("eval") && rec.value("step", int64_t{-1}) <= step) {
        best = rec["eval"];
        best["step"] = rec["step"];
      }
    }
  } catch (const std::exception&) {  // gf::Error, or a line whose values have other types
    return nullptr;  // an unreadable metrics file only means the metrics are unknown
  }
  return best;
}

struct Model {
  std::string name;
  LoadedGenerator gen;
  json info;
  std::unique_ptr<Batcher> batcher;
};

}  // namespace

void ServeOptions::validate() const {
  GF_CHECK(port >= 0 && port <= 65535, "--port must be in 0..65535, got ", port);
  GF_CHECK(max_batch >= 1 && max_batch <= 4096, "--max-batch must be in 1..4096, got ", max_batch);
  GF_CHECK(queue >= 1 && queue <= 100000, "--queue must be in 1..100000, got ", queue);
  GF_CHECK(http_threads >= 0 && http_threads <= 1024, "--threads-http must be in 0..1024");
  GF_CHECK(timeout_s > 0 && timeout_s <= 3600, "--timeout must be in (0, 3600] seconds");
  GF_CHECK(max_connections >= 1 && max_connections <= 100000,
           "--max-connections must be in 1..100000, got ", max_connections);
  GF_CHECK(read_timeout_s > 0 && read_timeout_s <= 3600,
           "--read-timeout must be in (0, 3600] seconds");
  GF_CHECK(write_timeout_s > 0 && write_timeout_s <= 3600,
           "--write-timeout must be in (0, 3600] seconds");
  GF_CHECK(keep_alive_s >= 0 && keep_alive_s <= 3600, "--keep-alive must be in [0, 3600] seconds");
}

std::string model_name_for(const std::string& arg, std::string* path) {
  const auto eq = arg.find('=');
  std::string name;
  if (eq != std::string::npos && !fs::exists(arg)) {
    name = arg.substr(0, eq);
    *path = arg.substr(eq + 1);
  } else {
    *path = arg;
    fs::path p = fs::path(arg).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    if (fs::is_directory(p)) {
      name = p.filename().string();
    } else if (p.parent_path().filename() == "checkpoints" &&
               !p.parent_path().parent_path().filename().empty()) {
      name = p.parent_path().parent_path().filename().string();
    } else {
      name = p.stem().string();
    }
  }
  GF_CHECK(valid_model_name(name), "model name '", name,
           "' must be 1-64 letters, digits, '.', '_' or '-'; name it with NAME=PATH");
  return name;
}

namespace {

ConnectionLimits connection_limits(const ServeOptions& o) {
  ConnectionLimits l;
  l.threads = o.http_threads > 0
                  ? o.http_threads
                  : std::max(64, static_cast<int>(std::thread::hardware_concurrency()));
  l.max_connections = o.max_connections;
  l.read_timeout_s = o.read_timeout_s;
  l.write_timeout_s = o.write_timeout_s;
  l.keep_alive_s = o.keep_alive_s;
  l.max_body_bytes = o.max_body_bytes;
  return l;
}

}  // namespace

struct Server::Impl {
  ServeOptions opt;
  Limits limits;
  RepairLimits repair_limits;
  HttpServer http;
  ServerMetrics metrics{kRoutes};
  std::mutex models_mu;
  std::map<std::string, std::shared_ptr<Model>> models;
  std::vector<std::string> model_order;
  std::atomic<bool> ready{false};
  std::mutex rng_mu;
  std::mt19937_64 rng{std::random_device{}()};

  explicit Impl(ServeOptions o) : opt(std::move(o)), http(connection_limits(opt)) {
    limits.max_n = opt.max_batch;
    limits.max_body_bytes = opt.max_body_bytes;
  }

  std::shared_ptr<Model> find(const std::string& name) {
    std::lock_guard<std::mutex> lock(models_mu);
    auto it = models.find(name);
    return it == models.end() ? nullptr : it->second;
  }
  std::vector<std::string> names() {
    std::lock_guard<std::mutex> lock(models_mu);
    return model_order;
  }

  static void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }
  static void send_error(httplib::Response& res, const ApiError& e) {
    res.status = e.status();
    res.set_content(error_body(e.code(), e.what()), "application/json");
  }

  void check_key(const httplib::Request& req) const {
    if (opt.api_key.empty()) return;
    std::string given = req.get_header_value("X-API-Key");
    const std::string auth = req.get_header_value("Authorization");
    if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
    // Constant-time comparison, so response timing does not leak the key.
    const bool ok = given.size() == opt.api_key.size() &&
                    CRYPTO_memcmp(given.data(), opt.api_key.data(), given.size()) == 0;
    if (!ok)
      throw ApiError(401, "unauthorized",
                     given.empty() ? "this server needs an API key (Authorization: Bearer KEY)"
                                   : "wrong API key");
  }

  // Runs `fn`, turning errors into JSON answers; the server never dies of a request.
  template <typename Fn>
  void guarded(httplib::Response& res, Fn&& fn) {
    try {
      fn();
    } catch (const ApiError& e) {
      send_error(res, e);
      if (e.status() == 401) res.set_header("WWW-Authenticate", "Bearer");
      if (e.status() == 429 || e.status() == 503) res.set_header("Retry-After", "1");
    } catch (const Error& e) {
      send_error(res, ApiError(400, "invalid_request", e.what()));
    } catch (const std::exception& e) {
      log_info("serve: internal error: ", first_line(e.what()));
      send_error(res, ApiError(500, "internal", "internal error; see the server log"));
    }
  }

  json models_json() {
    json list = json::array();
    std::lock_guard<std::mutex> lock(models_mu);
    for (const auto& name : model_order) list.push_back(models.at(name)->info);
    json l = limits.to_json();
    l["repair"] = repair_limits.to_json();
    return {{"models", list}, {"limits", l}, {"ready", ready.load()}};
  }

  // The checks every POST /v1/... request passes first: key, readiness, a JSON body.
  void check_post(const httplib::Request& req) {
    check_key(req);
    if (!ready) throw ApiError(503, "loading", "models are still loading");
    // A chunked body is bounded only on the wire (body plus framing) by the connection.
    if (req.body.size() > opt.max_body_bytes)
      throw ApiError(413, "payload_too_large", "the request body is too large");
    const std::string type = req.get_header_value("Content-Type");
    if (type.rfind("application/json", 0) != 0)
      throw ApiError(415, "unsupported_media_type",
                     "the body must be JSON with Content-Type: application/json");
  }

  // A queued job's result: 429 when the queue was full, 503 when it takes longer than the timeout.
  torch::Tensor await(const std::shared_ptr<GenerationJob>& job, const std::string& model) {
    if (!job)
      throw ApiError(
          429, "queue_full",
          concat("model '", model, "' has ", opt.queue, " requests waiting; retry later"));
    if (job->future.wait_for(std::chrono::duration<double>(opt.timeout_s)) !=
        std::future_status::ready) {
      job->abandoned = true;
      throw ApiError(503, "timeout", concat("no images within ", opt.timeout_s, " s; retry later"));
    }
    return job->future.get();
  }

  static void send(httplib::Response& res, const Rendered& out) {
    for (const auto& [k, v] : out.headers) res.set_header(k.c_str(), v);
    res.status = 200;
    res.set_content(out.body, out.content_type.c_str());
  }

  void generate(const httplib::Request& req, httplib::Response& res) {
    check_post(req);
    GenerateRequest r = parse_generate_request(req.body, names(), limits);
    auto model = find(r.model);
    const ModelSpec& spec = model->gen.spec;
    check_request_labels(r, spec);
    check_request_latents(r, spec);
    if (!r.seed_given) {
      std::lock_guard<std::mutex> lock(rng_mu);
      r.seed = rng() & ((uint64_t{1} << 31) - 1);
    }
    const GenerationInputs in = generation_inputs(r, spec);
    const torch::Tensor images = await(model->batcher->submit(in.z, in.labels), r.model);
    send(res, render_response(r, model->gen, in, images));
  }

  // A repair runs on the model's generation worker (queued with generation requests), alone.
  void repair(const httplib::Request& req, httplib::Response& res) {
    check_post(req);
    const RepairRequest r = parse_repair_request(req.body, names(), repair_limits);
    auto model = find(r.model);
    const ModelSpec spec = model->gen.spec;
    const RepairInputs in = repair_inputs(r, spec);
    auto projection = std::make_shared<Projection>();
    auto job = model->batcher->submit_task([spec, r, in, projection](Generator& g) {
      return run_repair(g, spec, r, in, *projection);
    });
    send(res, render_repair(r, model->gen, await(job, r.model), *projection));
  }

  void routes() {
    auto allow = [this](const std::string& path, const std::string& method) {
      auto not_allowed = [method](const httplib::Request& req, httplib::Response& res) {
        res.set_header("Allow", method);
        send_error(res,
                   ApiError(405, "method_not_allowed",
                            concat(req.method, " is not allowed on ", req.path, "; use ", method)));
      };
      if (method != "GET") http.Get(path, not_allowed);
      if (method != "POST") http.Post(path, not_allowed);
      http.Put(path, not_allowed);
      http.Patch(path, not_allowed);
      http.Delete(path, not_allowed);
    };
    http.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(kPageHtml, "text/html; charset=utf-8");
    });
    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      if (ready)
        send_json(res, 200, {{"status", "ok"}, {"models", names().size()}});
      else
        send_json(res, 503, {{"status", "loading"}});
    });
    http.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] {
        check_key(req);
        res.set_content(metrics.render(), "text/plain; version=0.0.4");
      });
    });
    http.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] {
        check_key(req);
        send_json(res, 200, models_json());
      });
    });
    http.Post("/v1/generate", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { generate(req, res); });
    });
    http.Post("/v1/repair", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { repair(req, res); });
    });
    allow("/", "GET");
    allow("/health", "GET");
    allow("/metrics", "GET");
    allow("/v1/models", "GET");
    allow("/v1/generate", "POST");
    allow("/v1/repair", "POST");

    // Errors the library answers itself (404, 413 body too large, 400 bad request line; a
    // request too slow, or with too large a head or body, which it reports as 400) get the
    // same JSON body as ours. The connection closes after a request it could not read or parse.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          const ReadFailure failure = HttpServer::read_failure();
          if (failure != ReadFailure::none || res.status == 400 || res.status == 414)
            res.set_header("Connection", "close");
          if (res.status == 400 && failure != ReadFailure::none)
            res.status = failure == ReadFailure::timeout          ? 408
                         : failure == ReadFailure::head_too_large ? 431
                                                                  : 413;
          std::string code = "bad_request", message = "malformed request";
          if (res.status == 408) {
            code = "request_timeout";
            message = concat("the request did not arrive within ", opt.read_timeout_s, " s");
          } else if (res.status == 431) {
            code = "headers_too_large";
            message = concat("the request line and headers exceed ",
                             ConnectionLimits{}.max_head_bytes / 1024, " KiB");
          } else if (res.status == 404) {
            code = "not_found";
            message = concat("no route ", req.path.substr(0, 200));
          } else if (res.status == 413) {
            code = "payload_too_large";
            message = "the request body is too large";
          } else if (res.status == 414) {
            code = "uri_too_long";
            message = "the request URI is too long";
          } else if (res.status >= 500) {
            code = "internal";
            message = "internal error; see the server log";
          }
          res.set_content(error_body(code, message), "application/json");
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          send_error(res, ApiError(500, "internal", "internal error; see the server log"));
        });
    // Sent with every response: where a request ends up is logged and counted once, here. The
    // time runs from the request's first byte; a request that could not be parsed has no
    // address yet, so it is asked of the connection.
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      const double s =
          std::chrono::duration<double>(Clock::now() - HttpServer::request_started()).count();
      metrics.record_request(req.path, res.status, s);
      const std::string client =
          req.remote_addr.empty() ? HttpServer::client_address() : req.remote_addr;
      log_info("serve: ", client, " ", req.method, " ", req.path.substr(0, 200), " ", res.status,
               " ", res.body.size(), " B ", static_cast<int64_t>(s * 1e6) / 1000.0, " ms");
    });
  }

  // A connection over --max-connections gets 503 with a JSON error at once, counted and logged
  // like a request.
  void refuse_over_cap() {
    const int cap = opt.max_connections;
    const std::string body =
        error_body("too_many_connections",
                   concat(cap, " connections are open (the server's limit); retry later"));
    http.set_refusal(
        concat("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n",
               "Content-Length: ", body.size(), "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n",
               body),
        [this, cap](const std::string& peer) {
          metrics.record_request("", 503, 0);
          log_info("serve: ", peer, " refused with 503: ", cap, " connections open");
        });
    HttpServer* server = &http;
    metrics.add_gauge("ganforge_connections_open",
                      "Open client connections (served or waiting for a thread).", "",
                      [server] { return static_cast<double>(server->open_connections()); });
    metrics.add_gauge("ganforge_connections_waiting",
                      "Client connections waiting for an HTTP thread.", "",
                      [server] { return static_cast<double>(server->waiting_connections()); });
  }
};

Server::Server(ServeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->opt.validate();
  impl_->http.set_payload_max_length(impl_->opt.max_body_bytes);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which lets a second server bind the
  // same port and silently take half of the connections.
  impl_->http.set_socket_options([](int sock) {
    int on = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  });
  // Small responses must not wait for Nagle's algorithm to meet the client's delayed ACK (40 ms).
  impl_->http.set_tcp_nodelay(true);
  impl_->routes();
  impl_->refuse_over_cap();
}

Server::~Server() {
  stop();
  std::lock_guard<std::mutex> lock(impl_->models_mu);
  for (auto& m : impl_->models) m.second->batcher->shutdown();
}

int Server::bind() {
  const auto& o = impl_->opt;
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
    GF_CHECK(port > 0, "cannot bind to ", o.host, " (any port)");
  } else {
    GF_CHECK(impl_->http.bind_to_port(o.host, port), "cannot bind to ", o.host, ":", port,
             " (in use, or not an address of this machine?)");
  }
  impl_->http.widen_backlog();
  return port;
}

void Server::listen() {
  impl_->http.listen_after_bind();
  // The HTTP threads have finished (each waited for its images); stop the workers.
  std::lock_guard<std::mutex> lock(impl_->models_mu);
  for (auto& m : impl_->models) m.second->batcher->shutdown();
}

void Server::stop() {
  impl_->http.stop();
}

bool Server::running() const {
  return impl_->http.is_running();
}

void Server::add_model(const std::string& name, LoadedGenerator model) {
  GF_CHECK(valid_model_name(name), "model name '", name,
           "' must be 1-64 letters, digits, '.', '_' or '-'");
  GF_CHECK(model.spec.out_shape.size() == 3, model.path, " does not generate images (samples have ",
           model.spec.out_shape.size(), " dimensions); serve needs an image model");
  std::lock_guard<std::mutex> lock(impl_->models_mu);
  GF_CHECK(impl_->models.count(name) == 0, "two models are named '", name,
           "'; name them with NAME=PATH");
  auto m = std::make_shared<Model>();
  m->name = name;
  const ModelSpec& s = model.spec;
  const int64_t step = model.meta.value("step", int64_t{0});
  m->info = {{"name", name},
             {"architecture", s.arch},
             {"conditional", s.is_conditional()},
             {"conditioning", s.conditional},
             {"num_classes", s.is_conditional() ? s.num_classes : 0},
             {"class_names", s.is_conditional() ? s.class_names : std::vector<std::string>{}},
             {"output_shape", s.out_shape},
             {"z_dim", s.z_dim},
             {"latent", s.latent},
             {"step", step},
             {"ema", model.ema},
             {"path", model.path},
             {"metrics", known_metrics(model.path, step)}};
  m->batcher = std::make_unique<Batcher>(name, model.g, impl_->opt.max_batch,
                                         static_cast<size_t>(impl_->opt.queue), &impl_->metrics);
  Batcher* b = m->batcher.get();
  impl_->metrics.add_gauge("ganforge_queue_depth", "Requests waiting for a generation batch.",
                           "model=\"" + name + "\"",
                           [b] { return static_cast<double>(b->depth()); });
  m->gen = std::move(model);
  impl_->models[name] = m;
  impl_->model_order.push_back(name);
}

void Server::set_ready() {
  impl_->ready = true;
}

}  // namespace gf::serve
