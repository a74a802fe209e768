// `ganforge serve`: generators behind an HTTP API and a web page (cpp-httplib). Routes:
// GET / (the page), GET /health, GET /metrics, GET /v1/models, POST /v1/generate; see
// docs/http_api.md. One Batcher per model coalesces concurrent requests into batches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/generator_file.h"
#include "serve/api.h"

namespace gf::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;          // 0: an ephemeral port (see Server::bind)
  std::string api_key;      // empty: no authentication
  int64_t max_batch = 256;  // images per forward pass; also the most one request may ask for
  int64_t queue = 64;       // requests waiting per model before 429
  int http_threads = 0;     // 0: max(64, hardware threads): one per open connection
  double timeout_s = 30;    // a request waiting longer for its images gets 503
  size_t max_body_bytes = 64 * 1024;
  // Connections (docs/http_api.md, "Connections"): open at once, beyond which 503 at once.
  int max_connections = 512;
  double read_timeout_s = 10;   // a request must arrive whole within this, else 408
  double write_timeout_s = 10;  // a response must be taken within this, else the connection ends
  double keep_alive_s = 5;      // idle seconds between requests before a connection closes
  void validate() const;
};

// Whether `host` (as given to --host) is a loopback address: 127.0.0.0/8, ::1, localhost.
// Binding anything else without an API key is worth a warning: any machine that reaches the
// port can generate and read /metrics. (In connections.cpp, with the other socket code.)
bool is_loopback_host(const std::string& host);

// A served model's name as the API spells it: [A-Za-z0-9._-]{1,64}; "NAME=PATH" names it
// explicitly, else the run directory's name (for a run or a checkpoint inside it) or the file's
// stem.
std::string model_name_for(const std::string& arg, std::string* path);

class Server {
 public:
  explicit Server(ServeOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; returns the port (the chosen one when options.port is 0).
  // Throws gf::Error when the address cannot be bound.
  int bind();
  // Serves until stop(): blocks. Requests arriving before set_ready() get 503.
  void listen();
  // Stops accepting, lets requests in flight and queued finish, then returns from listen().
  // Thread-safe; idempotent; does nothing before listen() has started (see running()).
  void stop();
  bool running() const;

  // Serves `model` as `name` (an image generator); throws gf::Error on a bad or duplicate name.
  void add_model(const std::string& name, LoadedGenerator model);
  void set_ready();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gf::serve
