// SPDX-License-Identifier: MIT
// `gasm_gpu serve`: the HTTP service (docs/service.md). Loads the weights once through the same
// lifecycle as `run`, warms the backend up, then answers JSON requests and serves the page at
// GET / until SIGINT or SIGTERM, after which it finishes the requests in flight and exits 0.
#include <spdlog/spdlog.h>

#include <memory>

#include <sys/stat.h>

#include "apps/app.hpp"
#include "apps/run_engine.hpp"
#include "apps/serve_http.hpp"
#include "apps/serve_service.hpp"
#include "host/errors.hpp"

namespace gasm::app {

namespace {

struct ServeArgs {
    CommonOptions common;
    HttpOptions http;
    ServeLimits limits;
};

void check_args(const ServeArgs& a) {
    if (!a.http.allow_remote && !is_loopback_host(a.http.host))
        throw UsageError("--host " + a.http.host +
                         " is not a loopback address; the service has no authentication and no "
                         "TLS, so binding it elsewhere needs --allow-remote");
    // Checked again when it is written; here so that a wrong path stops before the weights.
    struct stat st {};
    if (!a.http.port_file.empty() && ::lstat(a.http.port_file.c_str(), &st) == 0 &&
        !S_ISREG(st.st_mode))
        throw UsageError("--port-file " + a.http.port_file + " exists and is not a regular file");
}

void serve(ServeArgs& a) {
    start_logging(a.common);
    check_args(a);
    // Before any thread exists, so that every thread inherits the mask (see serve_http.hpp).
    block_stop_signals();
    if (a.http.allow_remote && !is_loopback_host(a.http.host))
        spdlog::warn("Serving on {} to other machines: no authentication, no TLS", a.http.host);
    Engine engine = start_engine(a.common);
    Service service(engine, a.limits, a.common.seed.value_or(42), model_slots(a.http.workers));
    service.warm_up();
    serve_http(service, a.http);
}

void add_limits(CLI::App& cmd, ServeLimits& l) {
    cmd.add_option("--max-body", l.max_body, "Bytes of one request body (default 1 MiB)")
        ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
    cmd.add_option("--max-batch", l.max_batch, "Texts or scenes in one POST /batch (default 64)")
        ->check(CLI::Range(1, 100000));
    cmd.add_option("--max-text", l.max_text, "Bytes of one text (default 8192)")
        ->check(CLI::Range(size_t{1}, size_t{1} << 20));
    cmd.add_option("--max-entities", l.max_entities, "Entities kept per text (default 15)")
        ->check(CLI::Range(1, 1000));
    cmd.add_option("--max-scene-entities", l.max_scene_entities,
                   "Entities of one JSON scene (default 256)")
        ->check(CLI::Range(1, 1 << 20));
    cmd.add_option("--request-timeout", l.request_timeout,
                   "Seconds a request may wait for the model before a 503 (default 30)")
        ->check(CLI::Range(0.1, 3600.0));
}

void add_http(CLI::App& cmd, HttpOptions& h) {
    cmd.add_option("--host", h.host, "Address to bind (default 127.0.0.1)");
    cmd.add_option("--port", h.port, "Port (default 8000; 0 picks a free one)")
        ->check(CLI::Range(0, 65535));
    cmd.add_flag("--allow-remote", h.allow_remote,
                 "Allow a non-loopback --host and any Host header (no authentication, no TLS)");
    cmd.add_option("--workers", h.workers, "HTTP worker threads (default 16)")
        ->check(CLI::Range(3, 1024));
    cmd.add_option("--read-timeout", h.read_timeout,
                   "Seconds one read may wait for a client (default 5)")
        ->check(CLI::Range(1, 600));
    cmd.add_option("--body-timeout", h.body_timeout,
                   "Seconds a whole request body may take (default 10)")
        ->check(CLI::Range(0.1, 3600.0));
    cmd.add_option("--drain-timeout", h.drain_timeout,
                   "Seconds SIGTERM waits for open connections to finish (default 30)")
        ->check(CLI::Range(0.0, 3600.0));
    cmd.add_option("--port-file", h.port_file, "Write the bound port here once listening");
}

}  // namespace

void add_serve(CLI::App& app) {
    auto args = std::make_shared<ServeArgs>();
    CLI::App* cmd = app.add_subcommand("serve", "Serve the model and its page over HTTP");
    add_common(*cmd, args->common, /*with_model=*/true, /*with_device=*/true);
    add_http(*cmd, args->http);
    add_limits(*cmd, args->limits);
    cmd->callback([args] { serve(*args); });
}

}  // namespace gasm::app
