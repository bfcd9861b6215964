// SPDX-License-Identifier: MIT
// The stderr log sink; the JSON form escapes messages properly so each line parses.
#include "host/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "host/errors.hpp"

namespace gasm {

namespace {

class JsonStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    explicit JsonStderrSink(std::string prefix) : prefix_(std::move(prefix)) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const auto t = std::chrono::system_clock::to_time_t(msg.time);
        char when[32];
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        nlohmann::json line = {
            {"time", when},
            {"level", spdlog::level::to_string_view(msg.level).data()},
            {"message", prefix_ + std::string(msg.payload.data(), msg.payload.size())}};
        std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::fprintf(stderr, "%s\n", text.c_str());
    }
    void flush_() override { std::fflush(stderr); }

  private:
    std::string prefix_;
};

}  // namespace

void setup_logging(LogLevel level, LogFormat format, const std::string& prefix) {
    std::shared_ptr<spdlog::sinks::sink> sink;
    if (format == LogFormat::json) {
        sink = std::make_shared<JsonStderrSink>(prefix);
    } else {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        // spdlog patterns treat % as a flag: a prefix is taken literally.
        std::string literal;
        for (char c : prefix) literal += c == '%' ? std::string("%%") : std::string(1, c);
        sink->set_pattern("[%H:%M:%S.%e] [%l] " + literal + "%v");
    }
    auto logger = std::make_shared<spdlog::logger>("gasm", sink);
    logger->set_level(level == LogLevel::quiet     ? spdlog::level::warn
                      : level == LogLevel::verbose ? spdlog::level::debug
                                                   : spdlog::level::info);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

LogFormat parse_log_format(const std::string& name) {
    if (name == "text") return LogFormat::text;
    if (name == "json") return LogFormat::json;
    throw UsageError("unknown log format '" + name + "' (text, json)");
}

}  // namespace gasm
