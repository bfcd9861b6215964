// SPDX-License-Identifier: MIT
// gasm_gpu: parses the command line and dispatches to a subcommand. Library errors arrive as
// exceptions and become exit codes here (interface.md): 1 runtime, 2 usage, 3 weight file,
// 4 input.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include "apps/app.hpp"
#include "host/build_info.hpp"
#include "host/errors.hpp"
#include "io/atomic_file.hpp"

int main(int argc, char** argv) {
    // A run stopped by SIGTERM or Ctrl-C leaves no half-written temporary file behind.
    gasm::remove_temporaries_on_signals();
    CLI::App app{"gasm_gpu: the GASM scene-placement model on CPU and CUDA"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("gasm_gpu ") + gasm::build::kVersion);
    // Parse errors look like every other error, and say where the help is.
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("gasm_gpu: error: ") + e.what() + " (--help lists the options)\n";
    });
    gasm::app::add_run(app);
    gasm::app::add_weights(app);
    gasm::app::add_info(app);
    gasm::app::add_check(app);
    gasm::app::add_bench(app);
    gasm::app::add_serve(app);
    // A first word that is no command and no option: say so, rather than CLI11's "A subcommand
    // is required".
    std::string names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) {
        names += (names.empty() ? "" : ", ") + sub->get_name();
        known = known || (argc > 1 && sub->get_name() == argv[1]);
    }
    if (argc > 1 && argv[1][0] != '-' && !known) {
        std::fprintf(stderr, "gasm_gpu: error: unknown command '%s' (commands: %s)\n", argv[1],
                     names.c_str());
        return static_cast<int>(gasm::ExitCode::usage);
    }
    try {
        app.parse(argc, argv);
        // Results go to stdout: a full disk or a closed descriptor there is a failed run, not
        // a success with nothing written.
        std::cout.flush();
        if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
            std::fprintf(stderr, "gasm_gpu: error: cannot write the results to standard output\n");
            return static_cast<int>(gasm::ExitCode::runtime);
        }
    } catch (const CLI::ParseError& e) {
        // --help and --version print and succeed; every other parse error is a usage error.
        return app.exit(e) == 0 ? 0 : static_cast<int>(gasm::ExitCode::usage);
    } catch (const gasm::Error& e) {
        // An empty message: a rank of an MPI job that another rank's error stopped (that rank
        // reports it).
        if (*e.what() != '\0') std::fprintf(stderr, "gasm_gpu: error: %s\n", e.what());
        return static_cast<int>(e.code());
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "gasm_gpu: error: out of memory\n");
        return static_cast<int>(gasm::ExitCode::runtime);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gasm_gpu: error: %s\n", e.what());
        return static_cast<int>(gasm::ExitCode::runtime);
    }
    return 0;
}
