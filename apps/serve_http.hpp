// SPDX-License-Identifier: MIT
// The HTTP side of `gasm_gpu serve`: cpp-httplib with a fixed pool of workers, the routes of the
// API and the page, the checks that come before a body is read (path, method, host, media type,
// size), time limits on slow clients, and a stop on SIGINT or SIGTERM that lets the requests in
// flight finish.
#pragma once

#include <string>

#include "apps/serve_service.hpp"

namespace gasm::app {

struct HttpOptions {
    std::string host = "127.0.0.1";
    int port = 8000;            // 0: any free port (the log line says which)
    bool allow_remote = false;  // else only loopback addresses and Host headers are accepted
    int workers = 16;           // fixed pool; two are kept free of the model's queue
    int read_timeout = 5;       // seconds one read may wait for the client's next bytes
    int write_timeout = 5;      // seconds one write may wait for the client to take bytes
    double body_timeout = 10;   // seconds the whole request body may take to arrive
    double drain_timeout = 30;  // after SIGTERM: seconds to wait for open connections to finish
    std::string port_file;      // where to write the bound port once listening, if set
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

// Requests the model may queue for at once with this many workers (see ModelGate).
int model_slots(int workers);

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it starts later (call it
// first, before the engine starts its threads), so that serve_http's watcher alone receives
// them; and ignores SIGPIPE, so that a client that hangs up cannot end the process.
void block_stop_signals();

// Serves until SIGINT or SIGTERM, then stops accepting, lets the requests in flight finish and
// returns. A second signal ends the process at once (exit 1). Throws RuntimeFailure when the
// address cannot be bound.
void serve_http(Service& service, const HttpOptions& options);

}  // namespace gasm::app
