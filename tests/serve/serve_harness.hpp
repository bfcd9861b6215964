// SPDX-License-Identifier: MIT
// What tests/test_serve.cpp drives `gasm_gpu serve` with: the server as a child process on a
// free loopback port (killed when the object goes), and a small HTTP/1.1 client over plain
// sockets that talks to 127.0.0.1 only, one request per connection, with a time limit on every
// connect, send and receive. Plain sockets rather than an HTTP library, so that a test can also
// send a body slowly or in parts, as a misbehaving client would.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

extern char** environ;

namespace gasm::testing::serve {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct HttpReply {
    int status = 0;                              // 0: no answer (refused, reset or timed out)
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;

    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

// A connected socket to 127.0.0.1:port with send and receive time limits, or -1.
inline int connect_loopback(int port, std::chrono::milliseconds limit = 5000ms) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    timeval tv{static_cast<time_t>(limit.count() / 1000),
               static_cast<suseconds_t>(limit.count() % 1000 * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // bounds connect() too
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline bool send_all(int fd, const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<size_t>(n);
    }
    return true;
}

// Reads until the server closes (it closes after each answer) and parses the answer.
inline HttpReply read_reply(int fd) {
    std::string raw;
    char buf[65536];
    for (int rounds = 0; rounds < 100000; ++rounds) {  // at most ~6 GB; bounded regardless
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        raw.append(buf, static_cast<size_t>(n));
    }
    HttpReply r;
    const size_t end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return r;
    r.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
    size_t at = raw.find("\r\n") + 2;
    while (at < end) {
        const size_t eol = raw.find("\r\n", at);
        const std::string line = raw.substr(at, eol - at);
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), ::tolower);
            r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
        }
        at = eol + 2;
    }
    r.body = raw.substr(end + 4);
    return r;
}

// The head of a request; `extra` holds further header lines, each ending in \r\n (a Host line
// there replaces the usual one).
inline std::string request_head(int port, const std::string& method, const std::string& path,
                                size_t content_length, const std::string& content_type,
                                const std::string& extra = "") {
    std::string head = method + " " + path + " HTTP/1.1\r\nConnection: close\r\n";
    if (extra.find("Host:") == std::string::npos)
        head += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
    if (!content_type.empty()) head += "Content-Type: " + content_type + "\r\n";
    if (method == "POST" || content_length > 0)
        head += "Content-Length: " + std::to_string(content_length) + "\r\n";
    return head + extra + "\r\n";
}

inline HttpReply http(int port, const std::string& method, const std::string& path,
                      const std::string& body = "",
                      const std::string& content_type = "application/json",
                      const std::string& extra_headers = "") {
    const int fd = connect_loopback(port);
    if (fd < 0) return {};
    const std::string type = method == "POST" ? content_type : "";
    send_all(fd, request_head(port, method, path, body.size(), type, extra_headers) + body);
    HttpReply r = read_reply(fd);
    ::close(fd);
    return r;
}

inline HttpReply post(int port, const std::string& path, const nlohmann::json& body) {
    return http(port, "POST", path, body.dump());
}

// `gasm_gpu serve` with a small model on a free loopback port; killed when the object goes.
class ServerProcess {
  public:
    // `extra` goes after the standard flags (small weights in a temporary folder, the CPU).
    explicit ServerProcess(const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args = {GASM_EXE,           "serve",
                                         "--port",           "0",
                                         "--port-file",      dir_.file("port"),
                                         "--weights",        dir_.file("w.h5"),
                                         "--device",         "cpu",
                                         "--feature-dim",    "48",
                                         "--hidden-dim",     "24",
                                         "--max-iterations", "2"};
        args.insert(args.end(), extra.begin(), extra.end());
        pid_ = spawn(args, dir_.file("serve.log"));
        port_ = wait_for_port(60s);
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait_exit(10s);
        }
    }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    int port() const { return port_; }  // 0 when the server never started listening
    pid_t pid() const { return pid_; }
    std::string log() const { return read_file(dir_.file("serve.log")); }
    const TempDir& dir() const { return dir_; }

    // Sends `sig` and waits up to `limit` for the exit; returns the exit code, 128 + signal for
    // a signal death, or -1 when it did not end in time (then it is killed).
    int stop(int sig, std::chrono::seconds limit = 20s) {
        ::kill(pid_, sig);
        return wait_exit(limit);
    }
    // As stop() without sending anything.
    int wait_exit(std::chrono::seconds limit) {
        const auto deadline = Clock::now() + limit;
        int status = 0;
        while (Clock::now() < deadline) {
            const pid_t done = ::waitpid(pid_, &status, WNOHANG);
            if (done == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(20ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
    }

  private:
    static pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
        std::vector<std::string> env;
        for (char** e = environ; *e; ++e)
            if (std::string(*e).rfind("GASM_", 0) != 0) env.emplace_back(*e);
        std::vector<char*> argp, envp;
        for (const auto& a : args) argp.push_back(const_cast<char*>(a.c_str()));
        for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
        argp.push_back(nullptr);
        envp.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        pid_t pid = -1;
        const int rc = posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argp.data(), envp.data());
        posix_spawn_file_actions_destroy(&fa);
        return rc == 0 ? pid : -1;
    }

    int wait_for_port(std::chrono::seconds limit) {
        const auto deadline = Clock::now() + limit;
        while (pid_ > 0 && Clock::now() < deadline) {
            const std::string text = read_file(dir_.file("port"));
            if (!text.empty()) return std::atoi(text.c_str());
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // it gave up
                pid_ = -1;
                return 0;
            }
            std::this_thread::sleep_for(20ms);
        }
        return 0;
    }

    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace gasm::testing::serve
