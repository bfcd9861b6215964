// SPDX-License-Identifier: MIT
// `gasm_gpu serve` over HTTP with cpp-httplib (Debian's libcpp-httplib, a compiled library whose
// header declares only what the .so defines). The pieces, in the order a request meets them:
// the accept loop hands each connection to a fixed pool of workers; a pre-routing check refuses
// unknown paths (404), wrong methods (405), foreign Host headers (403), other media types (415)
// and announced bodies over the limit (413) before any body byte is read; the body is read with
// a per-read and a whole-body time limit (408), so a client that trickles its bytes holds one
// worker for a bounded time only; then the Service answers. Every response carries the device
// and the weights digest in headers, and every error a JSON body.
#include "apps/serve_http.hpp"

// Debian compiles libcpp-httplib with these three; the header must see the same, or the classes
// it declares (Request holds an SSL pointer under the first) differ from the ones in the .so.
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <httplib.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <thread>

#include "apps/serve_assets.hpp"
#include "host/errors.hpp"
#include "io/scenes.hpp"

namespace gasm::app {

bool is_loopback_host(const std::string& host) {
    if (host == "localhost") return true;
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

int model_slots(int workers) {
    return std::max(1, workers - 2);
}

void block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

namespace {

// httplib listens with a backlog of 5, too short for a burst of clients connecting at once
// (the rest would wait for a SYN retransmission, a second or more). Listening again on the bound
// socket only widens the queue.
class HttpServer : public httplib::Server {
  public:
    void widen_backlog(int n) { ::listen(svr_sock_.load(), n); }
    // The stop on SIGTERM. httplib's stop() would also drop the connections still waiting in
    // the queue for a worker, unanswered. Shutting the listening socket down instead ends the
    // accept loop, and httplib's pool then serves every connection it has accepted before its
    // workers are joined. Returns how many connections were still in the kernel's accept queue
    // when the wait for it gave up (0 unless the accept loop is stuck).
    int close_listener() {
        const int fd = svr_sock_.load();
        // The kernel completes handshakes before the program accepts them, so a client whose
        // connect() has returned may still sit in the accept queue; shutting the socket down
        // then would reset it unanswered. So first a socket filter that drops every SYN
        // without ACK: no new handshake starts (the client's retransmitted SYN later meets the
        // closed port and is refused), the handshakes already under way complete, and the
        // accept loop empties the queue. The filter sees the TCP header at offset 0; byte 13
        // holds the flags (SYN 0x02, ACK 0x10).
        sock_filter drop_syn[] = {
            BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
            BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, 0),
            BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
        };
        sock_fprog program{static_cast<unsigned short>(std::size(drop_syn)), drop_syn};
        int waiting = 0;
        if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) == 0) {
            // For a listening socket, TCP_INFO's tcpi_unacked is the accept queue's length. It
            // has to stay empty for a while: a handshake under way when the filter came may
            // complete a little later on a loaded machine.
            const auto give_up = Clock::now() + std::chrono::seconds(2);
            auto empty_since = Clock::now();
            for (;;) {
                tcp_info info{};
                socklen_t size = sizeof info;
                if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) break;
                waiting = static_cast<int>(info.tcpi_unacked);
                const auto now = Clock::now();
                if (waiting != 0) empty_since = now;
                if (now - empty_since > std::chrono::milliseconds(50) || now > give_up) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        }
        ::shutdown(fd, SHUT_RDWR);
        return waiting;
    }
    // Connections accepted and not yet closed: queued for a worker or being served.
    std::atomic<int64_t> open_connections{0};
    // Connections that closed without an answer after the stop began, and whether it has.
    std::atomic<int64_t> unanswered_in_drain{0};
    std::atomic<bool> stopping{false};
};

// Set by the response logger on the worker thread that wrote an answer, so the pool can tell a
// connection that closed without one (a client that sent nothing, or broke off).
thread_local bool t_answered = false;

// httplib's fixed pool, counting the connections it holds, so the drain after SIGTERM can
// tell when it is done and give up on clients that never finish their request, and counting
// the connections that ended without an answer once the stop has begun.
class CountingPool : public httplib::TaskQueue {
  public:
    CountingPool(int workers, std::atomic<int64_t>& open, std::atomic<int64_t>& unanswered,
                 const std::atomic<bool>& stopping)
        : pool_(workers), open_(open), unanswered_(unanswered), stopping_(stopping) {}
    void enqueue(std::function<void()> fn) override {
        open_.fetch_add(1);
        pool_.enqueue([this, fn = std::move(fn)] {
            struct Done {
                std::atomic<int64_t>& open;
                ~Done() { open.fetch_sub(1); }
            } done{open_};
            t_answered = false;
            fn();
            if (!t_answered) {
                spdlog::debug("A connection closed without a request (nothing complete arrived)");
                if (stopping_.load()) unanswered_.fetch_add(1);
            }
        });
    }
    void shutdown() override { pool_.shutdown(); }

  private:
    httplib::ThreadPool pool_;
    std::atomic<int64_t>& open_;
    std::atomic<int64_t>& unanswered_;
    const std::atomic<bool>& stopping_;
};

// Watches for SIGINT and SIGTERM (blocked everywhere else, see block_stop_signals) and stops the
// server once it runs. It polls rather than waits forever so that it can also be told to quit.
class SignalWatcher {
  public:
    SignalWatcher(HttpServer& server, double drain_timeout)
        : server_(server), drain_timeout_(drain_timeout), thread_([this] { loop(); }) {}
    ~SignalWatcher() {
        quit_ = true;
        thread_.join();
    }
    bool stop_requested() const { return requested_.load(); }

  private:
    void loop() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        bool stopped = false;
        while (!quit_) {
            timespec tick{0, 50'000'000};
            const int sig = sigtimedwait(&set, nullptr, &tick);
            if (sig > 0) on_signal(sig);
            // stop() acts only on a running server, so a signal that came before the accept
            // loop started is applied on a later tick.
            if (requested_ && !stopped && server_.is_running()) {
                if (const int reset = server_.close_listener(); reset > 0)
                    spdlog::warn("{} connection(s) the accept loop did not take in 2 s were reset",
                                 reset);
                stopped = true;
            }
            if (stopped) give_up_when_drain_time_is_over();
        }
    }
    void on_signal(int sig) {
        const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
        if (requested_) {
            spdlog::warn("{} again: stopping at once", name);
            std::_Exit(static_cast<int>(ExitCode::runtime));
        }
        spdlog::info("{}: no new connections; answering the ones accepted (up to {:g} s)", name,
                     drain_timeout_);
        drain_started_ = Clock::now();
        server_.stopping = true;
        requested_ = true;
    }
    // A client that trickles its request head holds its worker for as long as it keeps
    // sending; once the drain time is over the process ends without waiting for such clients.
    void give_up_when_drain_time_is_over() {
        const int64_t open = server_.open_connections.load();
        if (open == 0 ||
            Clock::now() - drain_started_ < std::chrono::duration<double>(drain_timeout_))
            return;
        spdlog::warn("Drain time of {:g} s is over with {} connection(s) still open; exiting",
                     drain_timeout_, open);
        spdlog::default_logger()->flush();
        std::_Exit(0);
    }

    HttpServer& server_;
    const double drain_timeout_;
    Clock::time_point drain_started_{};
    std::atomic<bool> quit_{false}, requested_{false};
    std::thread thread_;
};

enum class Method { get, post };

// The paths the service knows and the one method each takes (GET includes HEAD).
std::optional<Method> route_of(const std::string& path) {
    if (path == "/health" || path == "/info" || path == "/") return Method::get;
    if (path == "/process" || path == "/batch") return Method::post;
    for (const WebAsset& a : web_assets())
        if (a.path == path) return Method::get;
    return std::nullopt;
}

std::string host_name_of(const std::string& host_header) {
    if (!host_header.empty() && host_header.front() == '[')  // "[::1]:8000"
        return host_header.substr(1, host_header.find(']') - 1);
    return host_header.substr(0, host_header.rfind(':') == std::string::npos
                                     ? host_header.size()
                                     : host_header.rfind(':'));
}

bool is_json_media_type(const std::string& content_type) {
    std::string type = content_type.substr(0, content_type.find(';'));
    type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
    std::transform(type.begin(), type.end(), type.begin(), ::tolower);
    return type == "application/json";
}

void send(httplib::Response& res, const Reply& r) {
    res.status = r.status;
    if (r.retry_after > 0) res.set_header("Retry-After", std::to_string(r.retry_after));
    res.set_content(r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

// A refusal, often before the body is read; every connection closes after one answer (see
// configure), so an unread body is never taken for a next request.
void refuse(httplib::Response& res, const Service& service, int status,
            const std::string& message) {
    send(res, service.error(status, message));
}

std::string over_body_limit(size_t announced, size_t limit) {
    return "the body of " + std::to_string(announced) + " bytes is over the limit of " +
           std::to_string(limit);
}

// What the head of a request alone is refused for.
struct EarlyRefusal {
    int status;
    std::string message;
    const char* allow = nullptr;  // the Allow header of a 405
};

// Heads that proxies and servers read in different ways (request smuggling): two Host or two
// Content-Length lines, or a length beside chunked transfer; and an HTTP/1.1 request without
// Host, which HTTP/1.1 requires.
std::optional<EarlyRefusal> refuse_ambiguous_head(const httplib::Request& req) {
    if (req.get_header_value_count("Host") > 1)
        return EarlyRefusal{400, "the request has more than one Host header"};
    if (req.version == "HTTP/1.1" && !req.has_header("Host"))
        return EarlyRefusal{400, "an HTTP/1.1 request needs a Host header"};
    if (req.get_header_value_count("Content-Length") > 1)
        return EarlyRefusal{400, "the request has more than one Content-Length header"};
    if (req.has_header("Content-Length") && req.has_header("Transfer-Encoding"))
        return EarlyRefusal{400, "the request has both Content-Length and Transfer-Encoding"};
    return std::nullopt;
}

std::optional<EarlyRefusal> refuse_host(const HttpOptions& o, const httplib::Request& req) {
    // A page elsewhere that re-points its own name at 127.0.0.1 sends that name as Host.
    if (o.allow_remote || !req.has_header("Host") ||
        is_loopback_host(host_name_of(req.get_header_value("Host"))))
        return std::nullopt;
    return EarlyRefusal{403, "this service answers only to a loopback Host name"};
}

std::optional<EarlyRefusal> refuse_route(const httplib::Request& req) {
    const std::optional<Method> route = route_of(req.path);
    if (!route)
        return EarlyRefusal{404,
                            "no such path: " + req.path +
                                " (GET /, GET /health, GET /info, POST /process, POST /batch)"};
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (*route == Method::get && !get)
        return EarlyRefusal{405, req.method + " is not allowed on " + req.path + "; use GET",
                            "GET, HEAD"};
    if (*route == Method::post && req.method != "POST")
        return EarlyRefusal{405, req.method + " is not allowed on " + req.path + "; use POST",
                            "POST"};
    return std::nullopt;
}

std::optional<EarlyRefusal> refuse_post_head(const Service& service, const httplib::Request& req) {
    if (req.method != "POST") return std::nullopt;
    // Asking for JSON also keeps other web pages out: a cross-origin JSON POST needs a
    // preflight, which this service never grants.
    if (!is_json_media_type(req.get_header_value("Content-Type")))
        return EarlyRefusal{415, "send the body as Content-Type: application/json"};
    const size_t announced = req.get_header_value<uint64_t>("Content-Length");
    if (announced > service.limits().max_body)
        return EarlyRefusal{413, over_body_limit(announced, service.limits().max_body)};
    return std::nullopt;
}

httplib::Server::HandlerResponse check_before_body(const Service& service, const HttpOptions& o,
                                                   const httplib::Request& req,
                                                   httplib::Response& res) {
    std::optional<EarlyRefusal> r = refuse_ambiguous_head(req);
    if (!r) r = refuse_host(o, req);
    if (!r) r = refuse_route(req);
    if (!r) r = refuse_post_head(service, req);
    if (!r) return httplib::Server::HandlerResponse::Unhandled;
    refuse(res, service, r->status, r->message);
    if (r->allow) res.set_header("Allow", r->allow);
    return httplib::Server::HandlerResponse::Handled;
}

enum class BodyRead { complete, too_large, too_slow, broken };

// Reads the body through httplib's reader, giving up once it is over the size or the time limit.
BodyRead read_body(const httplib::ContentReader& reader, size_t max_bytes,
                   Clock::time_point deadline, std::string& body) {
    BodyRead why = BodyRead::complete;
    const bool whole = reader([&](const char* data, size_t n) {
        if (body.size() + n > max_bytes) why = BodyRead::too_large;
        if (Clock::now() > deadline) why = BodyRead::too_slow;
        if (why != BodyRead::complete) return false;
        body.append(data, n);
        return true;
    });
    if (whole) return BodyRead::complete;
    return why == BodyRead::complete ? BodyRead::broken : why;
}

using Endpoint = Reply (Service::*)(const std::string&, Clock::time_point);

void add_post(HttpServer& svr, const std::string& path, Service& service, const HttpOptions& o,
              Endpoint endpoint) {
    // A POST without a body never reaches a content-reader handler; this one answers it.
    svr.Post(path, [&service, endpoint](const httplib::Request& req, httplib::Response& res) {
        send(res, (service.*endpoint)(req.body, Clock::now()));
    });
    svr.Post(path, [&service, &o, endpoint](const httplib::Request&, httplib::Response& res,
                                            const httplib::ContentReader& reader) {
        const auto arrival = Clock::now();
        const auto deadline =
            arrival + std::chrono::milliseconds(static_cast<int64_t>(o.body_timeout * 1000));
        std::string body;
        switch (read_body(reader, service.limits().max_body, deadline, body)) {
            case BodyRead::complete:
                return send(res, (service.*endpoint)(body, arrival));
            case BodyRead::too_large:
                return refuse(res, service, 413,
                              "the body is over the limit of " +
                                  std::to_string(service.limits().max_body) + " bytes");
            case BodyRead::too_slow:
                return refuse(
                    res, service, 408,
                    fmt::format("the body took longer than {:g} s to arrive", o.body_timeout));
            case BodyRead::broken:
                return refuse(res, service, 400, "the body could not be read");
        }
    });
}

std::string reason_of(int status) {
    switch (status) {
        case 400:
            return "bad request: the request line or headers could not be parsed";
        case 413:
            return "the request is over the size limit";
        case 414:
            return "the request URI is too long";
        default:
            return "the request was refused (HTTP " + std::to_string(status) + ")";
    }
}

std::string regex_escape(std::string_view path) {
    static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
    return std::regex_replace(std::string(path), special, R"(\$&)");
}

void add_page(HttpServer& svr) {
    // The page's own files only: no script, style or font from anywhere else may load.
    static constexpr const char* kPolicy =
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
    for (const WebAsset& a : web_assets()) {
        auto serve = [&a](const httplib::Request&, httplib::Response& res) {
            res.set_header("Content-Security-Policy", kPolicy);
            res.set_content(a.body.data(), a.body.size(), std::string(a.content_type).c_str());
        };
        svr.Get(regex_escape(a.path), serve);
        if (a.path == "/index.html") svr.Get("/", serve);
    }
}

void add_routes(HttpServer& svr, Service& service, const HttpOptions& o) {
    svr.set_pre_routing_handler([&service, &o](const auto& req, auto& res) {
        return check_before_body(service, o, req, res);
    });
    svr.Get("/health", [&service](const auto&, auto& res) { send(res, service.health()); });
    svr.Get("/info", [&service](const auto&, auto& res) { send(res, service.info()); });
    add_post(svr, "/process", service, o, &Service::process);
    add_post(svr, "/batch", service, o, &Service::batch);
    add_page(svr);
    // httplib's own refusals (a bad request line, headers too long) come without a body.
    using R = httplib::Server::HandlerResponse;
    svr.set_error_handler(httplib::Server::HandlerWithResponse(
        [&service](const httplib::Request&, httplib::Response& res) {
            if (!res.body.empty()) return R::Unhandled;
            send(res, service.error(res.status, reason_of(res.status)));
            return R::Handled;
        }));
    svr.set_exception_handler([&service](const auto&, auto& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what += std::string(": ") + e.what();
        } catch (...) {
        }
        spdlog::error("{}", what);
        send(res, service.error(500, what));
    });
    svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        t_answered = true;
        spdlog::debug("{} {} -> {} ({} bytes)", req.method, req.path, res.status, res.body.size());
    });
}

// A client that asks before sending a large body (curl does above 1 KiB) hears of the size limit
// before it sends anything.
int answer_expect_continue(const Service& service, const httplib::Request& req,
                           httplib::Response& res) {
    const size_t announced = req.get_header_value<uint64_t>("Content-Length");
    if (announced <= service.limits().max_body) return 100;
    refuse(res, service, 413, over_body_limit(announced, service.limits().max_body));
    return 413;
}

void configure(HttpServer& svr, const Service& service, const HttpOptions& o) {
    const int workers = o.workers;
    svr.new_task_queue = [workers, &svr] {
        return new CountingPool(workers, svr.open_connections, svr.unanswered_in_drain,
                                svr.stopping);
    };
    svr.set_read_timeout(o.read_timeout);
    // How long httplib waits for the first byte of a request before it closes the connection
    // (without an answer: it has no hook there). The same as for any later read.
    svr.set_keep_alive_timeout(o.read_timeout);
    svr.set_write_timeout(o.write_timeout);
    // One request per connection. A kept-alive connection pins a worker of the fixed pool while
    // it idles, and after a refusal the unread rest of a body would be read as the next request;
    // closing after each answer avoids both, at the cost of a connect per request (cheap here).
    svr.set_keep_alive_max_count(1);
    svr.set_payload_max_length(service.limits().max_body);
    svr.set_expect_100_continue_handler([&service](const auto& req, auto& res) {
        return answer_expect_continue(service, req, res);
    });
    svr.set_tcp_nodelay(true);
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second server
    // share the port silently instead of failing to start.
    svr.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    svr.set_default_headers({{"X-Gasm-Device", service.device()},
                             {"X-Gasm-Weights-Sha256", service.digest()},
                             {"X-Content-Type-Options", "nosniff"},
                             {"Cache-Control", "no-store"}});
}

int bind(HttpServer& svr, const HttpOptions& o) {
    const int port = o.port == 0 ? svr.bind_to_any_port(o.host)
                                 : (svr.bind_to_port(o.host, o.port) ? o.port : -1);
    if (port <= 0)
        throw RuntimeFailure("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                             " (in use, or not an address of this machine)");
    svr.widen_backlog(128);
    return port;
}

void write_port_file(const std::string& path, int port) {
    // Written beside the target and renamed, so a reader never sees half a number; only a
    // regular file (or nothing) is replaced, never a device, a FIFO or a folder.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw UsageError("--port-file " + path + " exists and is not a regular file");
    write_text_atomic(path, std::to_string(port) + "\n");
}

std::string url_of(const std::string& host, int port) {
    const bool v6 = host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/";
}

}  // namespace

void serve_http(Service& service, const HttpOptions& options) {
    HttpServer svr;
    configure(svr, service, options);
    add_routes(svr, service, options);
    SignalWatcher watcher(svr, options.drain_timeout);
    const int port = bind(svr, options);
    if (!options.port_file.empty()) write_port_file(options.port_file, port);
    spdlog::info("Listening on {} ({} workers, at most {} requests at the model at once)",
                 url_of(options.host, port), options.workers, model_slots(options.workers));
    if (!watcher.stop_requested() && !svr.listen_after_bind() && !watcher.stop_requested())
        throw RuntimeFailure("the accept loop on " + url_of(options.host, port) + " failed");
    if (const int64_t n = svr.unanswered_in_drain.load(); n > 0)
        spdlog::warn(
            "Stopped: {} connection(s) closed while stopping without sending a whole "
            "request in time (httplib gives up after {:g} s of silence); every request "
            "that arrived was answered",
            n, static_cast<double>(options.read_timeout));
    else
        spdlog::info("Stopped: every request in flight was answered");
}

}  // namespace gasm::app
