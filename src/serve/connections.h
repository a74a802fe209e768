// The connection layer under cpp-httplib's HTTP parsing, with the limits a thread-per-connection
// server needs against slow, idle and numerous clients (docs/http_api.md, "Connections").
// cpp-httplib 0.11 (Debian's, compiled into libcpp-httplib.so, so its CPPHTTPLIB_* limits are
// fixed) has none of them: its read timeout applies to each recv, so a client sending one byte a
// second (slowloris) holds a thread for ever; a header line grows in memory until its newline
// arrives, and the number of header lines is unbounded; a chunked body, or one without a
// Content-Length, is read into memory whatever its size (the payload limit applies only to a
// declared Content-Length, and a body over it is read to its declared end to be skipped);
// accepted connections queue for a thread without limit; an idle keep-alive connection holds its
// thread for the whole keep-alive time while others wait. HttpServer replaces the per-connection
// loop (the virtual process_and_close_socket) and the socket stream under httplib's own request
// parsing.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace gf::serve {

struct ConnectionLimits {
  int threads = 64;                   // connections served at once, one thread each
  int max_connections = 512;          // open (served + waiting for a thread); more get 503 at once
  double read_timeout_s = 10;         // a request's line, headers and body must arrive within this
  double write_timeout_s = 10;        // a response must be taken by the client within this
  double keep_alive_s = 5;            // an idle connection between requests closes after this
  size_t keep_alive_max = 1000;       // requests per connection
  size_t max_head_bytes = 32 * 1024;  // request line and headers together
  size_t max_body_bytes = 64 * 1024;  // a body, plus kBodyFraming for chunked encoding
};

// Bytes of chunked framing (chunk sizes, line ends) allowed beyond max_body_bytes on the wire.
constexpr size_t kBodyFraming = 64 * 1024;

// Why the request the calling thread is processing could not be read; the error handler turns
// httplib's 400 for it into 408, 431 or 413.
enum class ReadFailure { none, timeout, head_too_large, body_too_large };

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(ConnectionLimits limits);
  ~HttpServer() override;

  // A connection over max_connections is answered `response` (a whole HTTP response) from a
  // thread of its own and closed; `refused` is then called with the client's address.
  void set_refusal(std::string response, std::function<void(const std::string&)> refused);

  // cpp-httplib as Debian builds it listens with a backlog of 5: a burst of new connections (a
  // page's parallel fetches, a load balancer, a benchmark) overflows it and the kernel drops
  // SYNs, which clients only retry after a second. Linux lets listen() be called again on a
  // listening socket to change its backlog. Call after binding.
  void widen_backlog();

  int open_connections() const { return open_; }
  int waiting_connections() const { return waiting_; }
  // Of the request the calling thread is processing: why it could not be read, when its first
  // byte came, and the client's address (httplib fills Request::remote_addr only once the
  // headers are parsed).
  static ReadFailure read_failure();
  static std::chrono::steady_clock::time_point request_started();
  static std::string client_address();

 private:
  class Queue;
  class Connection;
  using Clock = std::chrono::steady_clock;

  // Called by httplib (on a pool thread) with each accepted socket; serves its requests.
  bool process_and_close_socket(socket_t sock) override;
  bool await_request(Connection& conn, bool first);
  void refuse(int sock);
  void refuse_loop();
  void answer_refused(int sock);

  const ConnectionLimits limits_;
  std::atomic<int> open_{0}, waiting_{0};
  std::string refusal_;
  std::function<void(const std::string&)> refused_;
  std::mutex refuse_mu_;
  std::condition_variable refuse_cv_;
  std::deque<int> refusing_;
  bool stopping_ = false;
  std::thread refuser_;
};

// The client's numeric address of a connected socket (an IPv4-mapped IPv6 address as IPv4).
std::string peer_address(int sock);

}  // namespace gf::serve
