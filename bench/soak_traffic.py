#!/usr/bin/python3
"""The traffic of the server soak (bench/soak.py, `make soak`): the kinds of request, with their
weights and the answers each may get, and the threads that send them: workers that send valid
and abusive requests on keep-alive connections, slowloris clients that send a byte a second,
and idle keep-alive connections. Every answer is recorded in a Stats."""
import http.client
import json
import re
import socket
import struct
import threading
import time

KEY = "soak-key"

# Kinds of request a worker sends, with their weights, and the statuses each may get. 429/503 are
# the documented answers of a busy server; "reset" is a connection ended by the server before an
# answer was read, acceptable only where the client itself misbehaves.
BUSY = {429, 503}
KINDS = {
    # valid
    "png": (20, {200} | BUSY),
    "grid": (5, {200} | BUSY),
    "json": (8, {200} | BUSY),
    "walk": (5, {200} | BUSY),
    "health": (4, {200}),
    "models": (2, {200}),
    "metrics": (1, {200}),
    # abuse
    "malformed_json": (8, {400}),
    "wrong_type": (8, {400}),
    "huge_body": (2, {413, "reset"}),
    "disconnect": (3, {200, "reset"} | BUSY),
    "unknown_path": (5, {404}),
    "wrong_key": (6, {401}),
    "wrong_method": (2, {405}),
    "wrong_media_type": (2, {415}),
}
VALID = ["png", "grid", "json", "walk", "health", "models", "metrics"]
# Run in threads of their own, all along.
BACKGROUND = {"slowloris": {408}, "idle_keepalive": {200}}


class Stats:
    def __init__(self, budget=0):
        self.lock = threading.Lock()
        self.budget = budget  # requests to send in all
        self.sent = 0
        self.status = {}      # kind -> {status: count}
        self.latency = {}     # kind -> [seconds]
        self.unexpected = []  # (kind, status, detail), first 50
        self.unexpected_n = 0
        self.retries = 0      # requests retried once on a fresh connection (idle one closed)

    def take(self):
        """Reserves one request of the budget; False once it is spent."""
        with self.lock:
            if self.sent >= self.budget:
                return False
            self.sent += 1
            return True

    def record(self, kind, status, seconds=None, detail=""):
        allowed = KINDS[kind][1] if kind in KINDS else BACKGROUND[kind]
        with self.lock:
            by = self.status.setdefault(kind, {})
            by[str(status)] = by.get(str(status), 0) + 1
            if seconds is not None and status == 200:
                self.latency.setdefault(kind, []).append(seconds)
            if status not in allowed:
                self.unexpected_n += 1
                if len(self.unexpected) < 50:
                    self.unexpected.append((kind, status, detail[:200]))


class Client:
    """One keep-alive connection (http.client), reopened when the server has closed it."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        self.used = False

    def request(self, stats, method, path, body=None, headers=None):
        headers = dict(headers or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.used = False
            reused = self.used
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                self.used = True
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                # An idle keep-alive connection the server closed before this request reached
                # it: retry once on a fresh connection, as HTTP clients do.
                if reused and attempt == 0:
                    with stats.lock:
                        stats.retries += 1
                    continue
                return "reset", b""
            except (socket.timeout, OSError) as e:
                self.close()
                return "error:" + type(e).__name__, b""
        return "reset", b""

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def generate_body(kind, rng, conditional):
    body = {"seed": rng.randrange(1 << 31)}
    if kind == "png":
        body.update(n=1, format="png")
        if conditional:
            body["labels"] = [rng.randrange(10)]
    elif kind == "grid":
        body.update(n=rng.choice([16, 36, 64]), format="grid")
    elif kind == "json":
        body.update(n=rng.choice([1, 4, 8]), format="json", truncation=rng.choice([0.5, 0.8, 1.0]))
    elif kind == "walk":
        body.update(n=8, format="json", walk_to=rng.randrange(1 << 31))
        if conditional and rng.random() < 0.5:
            body["labels"] = [rng.randrange(10)]
            body["walk_to"] = {"seed": body["walk_to"], "label": rng.randrange(10)}
    return json.dumps(body)


MALFORMED = ['{"n": 1,', "{", "not json", '{"n": 1}}', "[1, 2", '{"seed": 1e999999}', "\x00\x01",
             '{"n": 1, "format": "png"', '{"labels": [1, 2,]}', '"\\ud800"']
WRONG_TYPES = ['{"n": "4"}', '{"seed": "x"}', '{"labels": "3"}', '{"truncation": [1]}',
               '{"format": 7}', '{"n": 1.5}', '{"seed": -1}', '{"n": 100000}', '{"labels": [99]}',
               '{"walk_to": "x", "n": 4}', '{"latent": [1, 2]}', '{"model": 5}', '[]', '7',
               '{"n": 0}', '{"unknown_field": 1}', '{"truncation": 7}']


def raw_request(port, data, read_bytes=None, rst=False, timeout=60):
    """Sends bytes on a new connection; returns (status, seconds). read_bytes: read only that
    much of the answer, then close (with a reset when rst)."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return "reset", time.monotonic() - t0
        got = b""
        try:
            while b"\r\n" not in got or (read_bytes and len(got) < read_bytes):
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
        return (int(m.group(1)) if m else "reset"), time.monotonic() - t0
    finally:
        s.close()


def huge_body(port, rng):
    size = rng.choice([100_000, 1_000_000, 8_000_000])
    body = b"{" + b" " * size + b"}"
    if rng.random() < 0.5:
        head = (f"POST /v1/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        return raw_request(port, head + body)[0]
    head = (f"POST /v1/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                      for i in range(0, len(body), 65536))
    return raw_request(port, head + chunks + b"0\r\n\r\n")[0]


def disconnect(port, rng):
    body = json.dumps({"n": 128, "format": "json", "seed": rng.randrange(1 << 31)}).encode()
    head = (f"POST /v1/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return raw_request(port, head + body, read_bytes=rng.choice([1, 100, 5000]),
                       rst=rng.random() < 0.5)[0]


def worker(port, stats, rng, conditional, stop):
    client = Client(port)
    names, weights = list(KINDS), [KINDS[k][0] for k in KINDS]
    auth = {"Authorization": f"Bearer {KEY}"}
    jh = {"Content-Type": "application/json", **auth}
    while not stop.is_set() and stats.take():
        kind = rng.choices(names, weights)[0]
        t0 = time.monotonic()
        if kind in ("png", "grid", "json", "walk"):
            status, data = client.request(stats, "POST", "/v1/generate",
                                          generate_body(kind, rng, conditional), jh)
        elif kind == "health":
            status, data = client.request(stats, "GET", "/health")
        elif kind == "models":
            status, data = client.request(stats, "GET", "/v1/models", headers=auth)
        elif kind == "metrics":
            status, data = client.request(stats, "GET", "/metrics", headers=auth)
        elif kind == "malformed_json":
            status, data = client.request(stats, "POST", "/v1/generate", rng.choice(MALFORMED), jh)
        elif kind == "wrong_type":
            status, data = client.request(stats, "POST", "/v1/generate", rng.choice(WRONG_TYPES),
                                          jh)
        elif kind == "huge_body":
            status, data = huge_body(port, rng), b""
        elif kind == "disconnect":
            status, data = disconnect(port, rng), b""
        elif kind == "unknown_path":
            path = rng.choice(["/nope", "/v1/generate/x", "/v2/models", "/%2e%2e/etc/passwd",
                               "/" + "a" * rng.choice([10, 1000, 5000])])
            status, data = client.request(stats, rng.choice(["GET", "POST"]), path, "{}", jh)
        elif kind == "wrong_key":
            bad = rng.choice([{"Authorization": "Bearer wrong"}, {"X-API-Key": "soak-ke"},
                              {"Authorization": "Basic c29hazprZXk="}, {}])
            status, data = client.request(stats, "POST", "/v1/generate", '{"n": 1}',
                                          {"Content-Type": "application/json", **bad})
        elif kind == "wrong_method":
            status, data = client.request(stats, rng.choice(["GET", "PUT", "DELETE"]),
                                          "/v1/generate", headers=auth)
        else:  # wrong_media_type
            status, data = client.request(stats, "POST", "/v1/generate", '{"n": 1}',
                                          {"Content-Type": "text/plain", **auth})
        stats.record(kind, status, time.monotonic() - t0, data[:200].decode("latin-1"))
    client.close()


def slowloris(port, stats, stop):
    """Sends a request a byte a second (its line at once, then a header that never ends); the
    server should answer 408 once its read timeout is over."""
    while not stop.is_set() and stats.take():
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.setblocking(False)
        t0 = time.monotonic()
        got = b""
        try:
            s.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            # An attempt runs to its end (the server's answer) even once the load is over.
            while True:
                try:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                except BlockingIOError:
                    pass
                try:
                    s.send(b"a")
                except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                    pass
                time.sleep(1.0)
                if time.monotonic() - t0 > 120:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            s.close()
        m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
        stats.record("slowloris", int(m.group(1)) if m else "closed")


def idle_keepalive(port, stats, rng, stop):
    """Holds a keep-alive connection open, idle for seconds between requests."""
    client = Client(port)
    while not stop.is_set() and stats.take():
        t0 = time.monotonic()
        status, data = client.request(stats, "GET", "/health")
        stats.record("idle_keepalive", status, time.monotonic() - t0)
        stop.wait(rng.uniform(0.5, 20))
    client.close()
