#include "serve/connections.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include "serve/server.h"

namespace gf::serve {
namespace {

using Clock = std::chrono::steady_clock;

// A connection that has sent nothing for this long gives its thread up to one that waits for a
// thread; a connection idle after a response gives it up at once. Clients reconnect when an
// idle connection closes, which they must handle anyway (RFC 9112, section 9.3.1).
constexpr auto kFreshGrace = std::chrono::seconds(1);
// How often an idle connection looks at the listening socket (closed: the server stops) and
// at the connections waiting for a thread.
constexpr auto kIdleSlice = std::chrono::milliseconds(50);
// A connection closed with request bytes unread (a body refused with 413, a refused
// connection) is shut for writing and drained for up to this long first: closing a socket with
// unread data sends a reset, which can destroy the answer before the client reads it.
constexpr auto kLinger = std::chrono::seconds(2);
// Refused connections waiting for the refusing thread; more are closed without an answer.
constexpr size_t kMaxRefusing = 1024;

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// poll() until `deadline`: > 0 ready (or error/hang-up, which the next recv/send reports), 0 on
// timeout, < 0 on error.
int wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = deadline - Clock::now();
    const auto ms = left <= Clock::duration::zero()
                        ? 0
                        : std::chrono::ceil<std::chrono::milliseconds>(left).count();
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (r >= 0 || errno != EINTR) return r;
  }
}

// Reads and discards until end of stream, an error, or `until`.
void drain(int fd, Clock::time_point until) {
  char buf[16384];
  while (wait_for(fd, POLLIN, until) > 0) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
  }
}

bool bytes_pending(int fd) {
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

// unread: drain unread request bytes first; reset: drop what the client has not taken yet
// (the kernel would otherwise go on sending the rest of the send buffer to a client too slow).
void close_socket(int fd, bool unread, bool reset) {
  if (reset) {
    const ::linger now{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    ::close(fd);
    return;
  }
  if (unread) {
    ::shutdown(fd, SHUT_WR);
    drain(fd, Clock::now() + kLinger);
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

void address_of(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST] = "", serv[NI_MAXSERV] = "";
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, serv,
                  sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return;
  ip = host;
  if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string::npos) ip = ip.substr(7);
  port = std::atoi(serv);
}

// Whether cpp-httplib leaves the body `req` declares unread: it reads one for POST, PUT, PATCH
// and (with a Content-Length) DELETE only. Such a body would be parsed as the next request.
bool leaves_body_unread(const httplib::Request& req) {
  const bool declared =
      req.has_header("Transfer-Encoding") ||
      (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
  const bool read = req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
                    (req.method == "DELETE" && req.has_header("Content-Length"));
  return declared && !read;
}

const char* const kDefaultRefusal =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

}  // namespace

// The socket under one connection's requests: buffered reads (httplib reads request lines a
// byte at a time), each request's deadline and head-size limit, each response's write deadline.
class HttpServer::Connection final : public httplib::Stream {
 public:
  Connection(int fd, const ConnectionLimits& limits) : fd_(fd), limits_(limits), buf_(16384) {}

  void begin_request(Clock::time_point deadline) {
    started_ = Clock::now();
    read_deadline_ = deadline;
    head_open_ = true;
    head_bytes_ = 0;
    body_bytes_ = 0;
    tail_ = 0;
    writing_ = false;
  }
  bool buffered() const { return off_ < end_; }
  ReadFailure failure() const { return failure_; }
  Clock::time_point started() const { return started_; }
  bool write_timed_out() const { return write_timed_out_; }
  int wait_readable(Clock::time_point until) const { return wait_for(fd_, POLLIN, until); }

  bool is_readable() const override {
    return buffered() || wait_for(fd_, POLLIN, read_deadline_) > 0;
  }
  bool is_writable() const override {
    return wait_for(fd_, POLLOUT,
                    writing_ ? write_deadline_ : Clock::now() + seconds(limits_.write_timeout_s)) >
           0;
  }

  ssize_t read(char* out, size_t size) override {
    writing_ = false;
    if (!buffered()) {
      if (failure_ != ReadFailure::none) return -1;
      const int ready = wait_for(fd_, POLLIN, read_deadline_);
      if (ready == 0) failure_ = ReadFailure::timeout;
      if (ready <= 0) return -1;
      ssize_t n;
      do {
        n = ::recv(fd_, buf_.data(), buf_.size(), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      off_ = 0;
      end_ = static_cast<size_t>(n);
    }
    size_t n = std::min(size, end_ - off_);
    if (head_open_) {
      n = count_head(n);
      if (n == 0) {
        failure_ = ReadFailure::head_too_large;
        return -1;
      }
    } else {
      body_bytes_ += n;
      if (body_bytes_ > limits_.max_body_bytes + kBodyFraming) {
        failure_ = ReadFailure::body_too_large;
        return -1;
      }
    }
    std::memcpy(out, buf_.data() + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* data, size_t size) override {
    if (!writing_) {
      writing_ = true;
      write_deadline_ = Clock::now() + seconds(limits_.write_timeout_s);
    }
    // Without blocking: a blocking send of a large body would wait in the kernel for as long as
    // the client keeps taking a little of it.
    for (;;) {
      if (wait_for(fd_, POLLOUT, write_deadline_) <= 0) {
        write_timed_out_ = true;
        return -1;
      }
      const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      address_of(addr, len, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      address_of(addr, len, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  // Counts bytes about to be handed out as part of the request's head, which ends at the first
  // blank line (CRLF CRLF: httplib as Debian builds it does not take a bare LF as a line end).
  // Returns how many of the `n` to hand out: up to the head's end, so that what follows counts
  // as body; 0 once the head is over the limit.
  size_t count_head(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      tail_ = (tail_ << 8) | static_cast<unsigned char>(buf_[off_ + i]);
      if (++head_bytes_ > limits_.max_head_bytes) return 0;
      if (tail_ == 0x0d0a0d0a) {
        head_open_ = false;
        return i + 1;
      }
    }
    return n;
  }

  const int fd_;
  const ConnectionLimits& limits_;
  std::vector<char> buf_;
  size_t off_ = 0, end_ = 0;
  Clock::time_point started_{}, read_deadline_{}, write_deadline_{};
  bool head_open_ = true, writing_ = false, write_timed_out_ = false;
  size_t head_bytes_ = 0, body_bytes_ = 0;
  uint32_t tail_ = 0;
  ReadFailure failure_ = ReadFailure::none;
};

namespace {
thread_local const HttpServer* t_refusing = nullptr;  // set while the accept thread refuses
}  // namespace

// httplib's task queue, counting connections: one over the cap is refused on the accepting
// thread (process_and_close_socket hands it to the refusing thread) instead of queued.
class HttpServer::Queue final : public httplib::TaskQueue {
 public:
  explicit Queue(HttpServer& server)
      : server_(server), pool_(static_cast<size_t>(server.limits_.threads)) {}

  void enqueue(std::function<void()> fn) override {
    if (server_.open_ >= server_.limits_.max_connections) {
      t_refusing = &server_;
      fn();
      t_refusing = nullptr;
      return;
    }
    ++server_.open_;
    ++server_.waiting_;
    pool_.enqueue([this, fn = std::move(fn)] {
      --server_.waiting_;
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  HttpServer& server_;
  httplib::ThreadPool pool_;
};

namespace {
thread_local httplib::Stream* t_connection = nullptr;  // the connection this thread serves
}  // namespace

HttpServer::HttpServer(ConnectionLimits limits) : limits_(limits), refusal_(kDefaultRefusal) {
  // The values httplib writes in its Keep-Alive response header.
  set_keep_alive_max_count(limits_.keep_alive_max);
  set_keep_alive_timeout(static_cast<time_t>(std::ceil(limits_.keep_alive_s)));
  new_task_queue = [this] { return new Queue(*this); };
  refuser_ = std::thread([this] { refuse_loop(); });
}

HttpServer::~HttpServer() {
  {
    std::lock_guard<std::mutex> lock(refuse_mu_);
    stopping_ = true;
  }
  refuse_cv_.notify_all();
  refuser_.join();
}

void HttpServer::set_refusal(std::string response,
                             std::function<void(const std::string&)> refused) {
  refusal_ = std::move(response);
  refused_ = std::move(refused);
}

void HttpServer::widen_backlog() {
  if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, SOMAXCONN);
}

ReadFailure HttpServer::read_failure() {
  return t_connection ? static_cast<Connection*>(t_connection)->failure() : ReadFailure::none;
}

Clock::time_point HttpServer::request_started() {
  return t_connection ? static_cast<Connection*>(t_connection)->started() : Clock::now();
}

std::string HttpServer::client_address() {
  return t_connection ? peer_address(t_connection->socket()) : std::string();
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  if (t_refusing == this) {
    refuse(sock);
    return false;
  }
  const auto start = Clock::now();
  Connection conn(sock, limits_);
  t_connection = &conn;
  bool ok = false;
  try {
    for (size_t left = limits_.keep_alive_max; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
      const bool first = left == limits_.keep_alive_max;
      if (!await_request(conn, first)) break;
      // A new connection's first request has read_timeout_s from the moment it got a thread;
      // a later one from its first byte.
      conn.begin_request((first ? start : Clock::now()) + seconds(limits_.read_timeout_s));
      bool closed = false, parsed = false, unread = false;
      ok = process_request(conn, left == 1, closed, [&](httplib::Request& req) {
        parsed = true;
        unread = leaves_body_unread(req);
        if (unread) {
          req.headers.erase("Connection");
          req.set_header("Connection", "close");  // so that the response says so
        }
      });
      // After a request that could not be parsed, or whose body stays unread, the next bytes
      // are not the start of a request.
      if (!ok || closed || !parsed || unread || conn.failure() != ReadFailure::none) break;
    }
  } catch (const std::exception&) {
    ok = false;  // out of memory parsing a request, say: this connection ends, not the server
  }
  t_connection = nullptr;
  // A client too slow to send its request is not waited for again.
  close_socket(sock,
               conn.failure() != ReadFailure::timeout && (conn.buffered() || bytes_pending(sock)),
               conn.write_timed_out());
  --open_;
  return ok;
}

// Waits for the first byte of the connection's next request: false when it should close (idle
// too long, another connection needs the thread, the server stops).
bool HttpServer::await_request(Connection& conn, bool first) {
  if (conn.buffered()) return true;  // pipelined
  const auto start = Clock::now();
  const auto limit = start + seconds(first ? limits_.read_timeout_s : limits_.keep_alive_s);
  const Clock::duration grace = first ? Clock::duration(kFreshGrace) : Clock::duration::zero();
  while (svr_sock_ != INVALID_SOCKET) {
    const auto now = Clock::now();
    if (now >= limit || (waiting_ > 0 && now - start >= grace)) return false;
    const int ready = conn.wait_readable(std::min(limit, now + kIdleSlice));
    if (ready != 0) return ready > 0;
  }
  return false;
}

void HttpServer::refuse(int sock) {
  {
    std::lock_guard<std::mutex> lock(refuse_mu_);
    if (refusing_.size() < kMaxRefusing) {
      refusing_.push_back(sock);
      refuse_cv_.notify_one();
      return;
    }
  }
  ::close(sock);
}

void HttpServer::refuse_loop() {
  for (;;) {
    int sock = -1;
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(refuse_mu_);
      refuse_cv_.wait(lock, [this] { return stopping_ || !refusing_.empty(); });
      if (refusing_.empty()) return;
      sock = refusing_.front();
      refusing_.pop_front();
      stopping = stopping_;
    }
    if (stopping) {
      ::close(sock);
      continue;
    }
    answer_refused(sock);
  }
}

// Reads what the client sends first (up to 100 ms), answers the refusal, and closes once the
// client has had it (its end of stream, or 200 ms).
void HttpServer::answer_refused(int sock) {
  const std::string peer = peer_address(sock);
  const auto now = Clock::now();
  if (wait_for(sock, POLLIN, now + std::chrono::milliseconds(100)) > 0) drain(sock, now);
  if (refused_) refused_(peer);  // counted before the client can see it
  (void)::send(sock, refusal_.data(), refusal_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(sock, SHUT_WR);
  drain(sock, Clock::now() + std::chrono::milliseconds(200));
  ::close(sock);
}

// Declared in server.h, for the command line's warning.
bool is_loopback_host(const std::string& host) {
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (h == "localhost") return true;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  return false;
}

std::string peer_address(int sock) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  std::string ip;
  int port = 0;
  if (getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    address_of(addr, len, ip, port);
  return ip;
}

}  // namespace gf::serve
