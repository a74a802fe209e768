// The server against slow, idle, numerous and oversized clients (src/serve/connections.h): a
// client that trickles its request is cut off with 408 while others are served, the connection
// cap answers 503 at once, an idle keep-alive connection gives its thread up, a head over the
// limit gets 431, a chunked body over the limit 413, a GET's body is not parsed as a request, a
// client that reads too slowly is cut off, and which hosts count as loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "serve/connections.h"
#include "serve/server.h"
#include "server_fixture.h"

namespace gf::serve {
namespace {

using nlohmann::json;
using test::ServerTest;
using Clock = std::chrono::steady_clock;

// A client socket to the server, written and read by hand.
class RawClient {
 public:
  explicit RawClient(int port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  // False once the server has closed the connection (or reset it).
  bool send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Whatever arrives within `seconds`, up to `max` bytes; `closed` tells whether the server
  // ended the connection.
  std::string receive(double seconds, bool* closed = nullptr, size_t max = size_t(1) << 30) {
    std::string out;
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    if (closed) *closed = false;
    while (out.size() < max) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 0))) <= 0) break;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, std::min(sizeof buf, max - out.size()), 0);
      if (n <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

json body_of(const std::string& response) {
  const size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? json() : json::parse(response.substr(at + 4), nullptr, false);
}

TEST_F(ServerTest, SlowClientIsCutOffWhileOthersAreServed) {
  ServeOptions o;
  o.read_timeout_s = 1;
  o.http_threads = 4;
  start(o);
  // A slowloris: headers a byte every 50 ms, for ever. cpp-httplib's own read timeout (per
  // recv) never fires for it; the request's deadline does.
  RawClient slow(port_);
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.send("POST /v1/generate HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  std::string answer;
  int served = 0;
  bool closed = false;
  for (int i = 0; i < 600 && !closed; ++i) {  // 30 s of trickling at most
    if (!slow.send("a")) break;
    answer += slow.receive(0.05, &closed);
    if (i % 5 == 0 && client().Get("/health")) ++served;
  }
  EXPECT_EQ(status_line(answer), "HTTP/1.1 408 Request Timeout") << answer;
  EXPECT_EQ(body_of(answer)["error"]["code"], "request_timeout") << answer;
  EXPECT_GT(served, 0);
  answer += slow.receive(5, &closed);
  EXPECT_TRUE(closed) << "the connection stays open after 408";

  // A body that trickles is cut off the same way.
  RawClient slow_body(port_);
  ASSERT_TRUE(
      slow_body.send("POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 4000\r\n\r\n{"));
  answer.clear();
  closed = false;
  for (int i = 0; i < 600 && !closed; ++i) {
    if (!slow_body.send(" ")) break;
    answer += slow_body.receive(0.05, &closed);
  }
  EXPECT_EQ(status_line(answer), "HTTP/1.1 408 Request Timeout") << answer;
  // And the server still serves.
  EXPECT_EQ(post({{"model", "plain"}})->status, 200);
}

TEST_F(ServerTest, ConnectionCapAnswers503AtOnce) {
  ServeOptions o;
  o.max_connections = 4;
  o.http_threads = 2;
  o.read_timeout_s = 60;
  start(o);
  // Four connections that started a request and stopped: two hold the threads, two wait.
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(held.back()->connected());
    ASSERT_TRUE(held.back()->send("GET /health HTTP/1.1\r\n"));
  }
  // The fifth is over the cap: 503 with a JSON error, at once rather than after a queue.
  RawClient fifth(port_);
  ASSERT_TRUE(fifth.connected());
  fifth.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  const std::string answer = fifth.receive(20, &closed);
  EXPECT_EQ(status_line(answer), "HTTP/1.1 503 Service Unavailable") << answer;
  EXPECT_NE(answer.find("Retry-After: 1\r\n"), std::string::npos) << answer;
  EXPECT_EQ(body_of(answer)["error"]["code"], "too_many_connections") << answer;
  EXPECT_TRUE(closed);
  // Once those connections end, the server takes new ones again, and counted the refusals: the
  // fifth connection's, and those of polls that came before the server had closed the four (a
  // slow machine, or AddressSanitizer, makes that likely).
  held.clear();
  std::string metrics;
  int refused_polls = 0;
  for (int i = 0; i < 200 && metrics.empty(); ++i) {
    auto m = client().Get("/metrics");
    if (m && m->status == 200) metrics = m->body;
    if (m && m->status == 503) ++refused_polls;
    if (metrics.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(metrics.find(concat("ganforge_requests_total{route=\"other\",status=\"503\"} ",
                                1 + refused_polls, "\n")),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("ganforge_connections_open "), std::string::npos);
  EXPECT_NE(metrics.find("ganforge_connections_waiting "), std::string::npos);
}

TEST_F(ServerTest, IdleKeepAliveConnectionGivesItsThreadUp) {
  ServeOptions o;
  o.http_threads = 1;
  o.keep_alive_s = 60;
  start(o);
  // A keeps its connection open after one request, holding the only thread ...
  httplib::Client a("127.0.0.1", port_);
  a.set_keep_alive(true);
  ASSERT_EQ(a.Get("/health")->status, 200);
  // ... until B needs it: B is served long before A's 60 s keep-alive is over.
  httplib::Client b("127.0.0.1", port_);
  b.set_read_timeout(20);
  auto r = b.Get("/health");
  ASSERT_TRUE(r) << "B waited for A's keep-alive";
  EXPECT_EQ(r->status, 200);
  // A's next request finds its connection closed, and its client reconnects.
  EXPECT_EQ(a.Get("/health")->status, 200);
}

TEST_F(ServerTest, OversizedHeadIsRefusedWith431) {
  start();
  // Forty header lines of 1 KiB: each under cpp-httplib's 8 KiB line limit, 40 KiB together.
  std::string head = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 40; ++i)
    head += "X-Pad-" + std::to_string(i) + ": " + std::string(1024, 'p') + "\r\n";
  RawClient many(port_);
  ASSERT_TRUE(many.send(head + "\r\n"));
  bool closed = false;
  std::string answer = many.receive(20, &closed);
  EXPECT_EQ(status_line(answer), "HTTP/1.1 431 Request Header Fields Too Large") << answer;
  EXPECT_EQ(body_of(answer)["error"]["code"], "headers_too_large") << answer;
  // One header line that never ends: cut off at the limit, not buffered until memory runs out.
  RawClient endless(port_);
  ASSERT_TRUE(endless.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Endless: "));
  const std::string chunk(64 * 1024, 'e');
  for (int i = 0; i < 256 && endless.send(chunk); ++i) {
  }
  answer = endless.receive(20, &closed);
  EXPECT_TRUE(closed) << "16 MiB of one header line were taken";
  // A head under the limit passes.
  head = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  for (int i = 0; i < 20; ++i)
    head += "X-Pad-" + std::to_string(i) + ": " + std::string(1024, 'p') + "\r\n";
  RawClient fits(port_);
  ASSERT_TRUE(fits.send(head + "\r\n"));
  EXPECT_EQ(status_line(fits.receive(20)), "HTTP/1.1 200 OK");
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitIsRefusedWith413) {
  ServeOptions o;
  o.read_timeout_s = 60;  // so that only the body limit can end it within the test
  start(o);
  // cpp-httplib bounds only a declared Content-Length; a chunked body it reads into memory
  // whatever its size.
  RawClient c(port_);
  ASSERT_TRUE(
      c.send("POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
  std::string answer;
  bool closed = false;
  for (int i = 0; i < 1024 && !closed && answer.empty(); ++i) {  // 64 MiB at most
    if (!c.send(chunk)) break;
    answer += c.receive(0, &closed);
  }
  answer += c.receive(20, &closed);
  EXPECT_EQ(status_line(answer), "HTTP/1.1 413 Payload Too Large") << answer.substr(0, 300);
  EXPECT_EQ(body_of(answer)["error"]["code"], "payload_too_large");
  // A finite one over 64 KiB, within the allowance for chunked framing on the wire, is 413 too
  // (a Content-Length over 64 KiB is).
  RawClient finite(port_);
  const std::string body = R"({"model": "plain")" + std::string(100000, ' ') + "}";
  std::string chunked;
  for (size_t at = 0; at < body.size(); at += 0x8000) {
    const std::string part = body.substr(at, 0x8000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    chunked += size + part + "\r\n";
  }
  ASSERT_TRUE(
      finite.send("POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n" +
                  chunked + "0\r\n\r\n"));
  answer = finite.receive(20, &closed);
  EXPECT_EQ(status_line(answer), "HTTP/1.1 413 Payload Too Large") << answer.substr(0, 300);
  EXPECT_EQ(post({{"model", "plain"}})->status, 200);
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(ServerTest, BodyOfAGetIsNotTakenForTheNextRequest) {
  start();
  // cpp-httplib does not read a GET's body; left in the connection, "{}" would begin the next
  // request line (the soak found this). The server answers, says it closes, and closes.
  RawClient c(port_);
  ASSERT_TRUE(
      c.send("GET /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
             "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  std::string answer = c.receive(20, &closed);
  EXPECT_EQ(status_line(answer), "HTTP/1.1 404 Not Found") << answer;
  EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << answer;
  EXPECT_EQ(count_of(answer, "HTTP/1.1 "), 1u) << answer;
  EXPECT_TRUE(closed);
  // So does a request that cannot be parsed: what follows it is not a request either.
  RawClient bad(port_);
  ASSERT_TRUE(bad.send("{}GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  answer = bad.receive(20, &closed);
  EXPECT_EQ(status_line(answer), "HTTP/1.1 400 Bad Request") << answer;
  EXPECT_EQ(count_of(answer, "HTTP/1.1 "), 1u) << answer;
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, PathThatIsNotUtf8GetsAJson404) {
  start();
  // The 404's message quotes the path; "/%FF" decodes to a byte that is not UTF-8, which made the
  // JSON error body throw, and the client got no answer at all (found by a review, not by fuzzing).
  for (const std::string& path :
       std::vector<std::string>{"/%FF", "/v1/%C3", "/" + std::string(198, 'a') + "%C3%A9"}) {
    RawClient c(port_);
    ASSERT_TRUE(c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    bool closed = false;
    const std::string answer = c.receive(20, &closed);
    EXPECT_EQ(status_line(answer), "HTTP/1.1 404 Not Found") << path << ": " << answer;
    const auto body =
        nlohmann::json::parse(answer.substr(answer.find("\r\n\r\n") + 4), nullptr, false);
    ASSERT_TRUE(body.is_object()) << answer;
    EXPECT_EQ(body["error"]["code"], "not_found") << answer;
  }
  auto c = client();
  EXPECT_TRUE(c.Get("/health"));  // and the server carries on
}

// The connection layer alone, with a response larger than any socket buffer.
TEST(ServeConnections, ClientThatReadsTooSlowlyIsCutOff) {
  ConnectionLimits limits;
  limits.threads = 2;
  limits.write_timeout_s = 2;
  HttpServer http(limits);
  const std::string big(64 << 20, 'x');
  http.Get("/big", [&big](const httplib::Request&, httplib::Response& res) {
    res.set_content(big, "application/octet-stream");
  });
  const int port = http.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread server([&http] { http.listen_after_bind(); });
  // Up to 64 KiB every 30 ms (2 MB/s: the 64 MiB would take half a minute): fast enough that
  // the server can always send again within the write timeout, so only a deadline for the
  // whole response ends it early.
  RawClient slow(port, 64 * 1024);
  ASSERT_TRUE(slow.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string answer;
  bool closed = false;
  for (int i = 0; i < 3000 && !closed; ++i) {  // 90 s at most
    answer += slow.receive(1, &closed, 64 * 1024);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  EXPECT_EQ(status_line(answer), "HTTP/1.1 200 OK");
  EXPECT_TRUE(closed) << "still sending after " << answer.size() << " bytes";
  EXPECT_LT(answer.size(), big.size() / 2) << "the client took most of the response";
  // The thread is free again.
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(20);
  auto r = c.Get("/missing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  while (!http.is_running()) std::this_thread::yield();
  http.stop();
  server.join();
}

TEST(ServeHosts, LoopbackHosts) {
  for (const char* h :
       {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LocalHost", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", "",
                        "::ffff:10.0.0.1", "128.0.0.1"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

}  // namespace
}  // namespace gf::serve
