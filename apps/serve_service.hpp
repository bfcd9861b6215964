// SPDX-License-Identifier: MIT
// The service behind `gasm_gpu serve`, free of HTTP: it turns a request body into scenes,
// checks them against the limits, runs them through the one engine (the backend is not
// re-entrant, so forward calls take turns at a gate) and answers with a status and a JSON body.
// Parsing, checking and formatting run on the caller's thread, in parallel with the model.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/run_engine.hpp"

namespace gasm::app {

using Clock = std::chrono::steady_clock;

// What one request may ask for. Every limit is checked before the model is touched.
struct ServeLimits {
    size_t max_body = 1 << 20;     // bytes of one request body
    int max_batch = 64;            // texts or scenes in one POST /batch
    size_t max_text = 8192;        // bytes of one text
    int max_entities = 15;         // entities the text front end keeps per text (as `run`)
    int max_scene_entities = 256;  // entities of one JSON scene
    double request_timeout = 30;   // seconds from arrival until the model must have started
};

// An answer: the HTTP status and the JSON body (every body names the device and the weights).
struct Reply {
    int status = 200;
    nlohmann::json body;
    int retry_after = 0;  // seconds; sent as Retry-After with a 503
};

// Lets at most `slots` requests wait for or hold the model at once and makes them take turns.
// Requests beyond the slots are refused at once, so the HTTP workers never all sit waiting for
// the model and /health stays answerable under load.
class ModelGate {
  public:
    enum class Entry { entered, full, timed_out };
    explicit ModelGate(int slots) : slots_(slots) {}
    // Waits for the model until `deadline`; on `entered` the caller holds it until leave().
    Entry enter(Clock::time_point deadline);
    void leave();
    int inside() const { return inside_.load(); }  // waiting plus running

  private:
    const int slots_;
    std::atomic<int> inside_{0};
    std::timed_mutex model_;
};

class Service {
  public:
    // `text_seed` seeds the text features (the run's seed, so a sentence gives the scene `run`
    // gives); `model_slots` as in ModelGate.
    Service(Engine& engine, const ServeLimits& limits, uint64_t text_seed, int model_slots);

    // Runs the example sentence once so that the first request finds a warm backend and the
    // time estimate starts from a measurement. Throws what the engine throws.
    void warm_up();

    Reply health() const;
    Reply info() const;
    // POST /process: {"text": "..."} or one scene object. `arrival` starts the request's clock.
    Reply process(const std::string& body, Clock::time_point arrival);
    // POST /batch: {"texts": [...]} or {"scenes": [...]}.
    Reply batch(const std::string& body, Clock::time_point arrival);
    // An error body: {"error": message} plus the device and the weights.
    Reply error(int status, const std::string& message) const;

    const std::string& device() const { return device_; }
    const std::string& digest() const { return engine_.weights.digest; }
    const ServeLimits& limits() const { return limits_; }

  private:
    SceneBatch scenes_for_process(const nlohmann::json& request) const;
    SceneBatch scenes_for_batch(const nlohmann::json& request) const;
    void add_text(const nlohmann::json& text, const std::string& where, SceneBatch& batch) const;
    void add_scene(const nlohmann::json& scene, const std::string& where, SceneBatch& batch) const;
    Reply run(const SceneBatch& batch, Clock::time_point arrival);
    Reply answer(const std::string& body, Clock::time_point arrival, bool is_batch);
    nlohmann::json stamp(nlohmann::json body) const;  // adds the device and the weights

    Engine& engine_;
    const ServeLimits limits_;
    const uint64_t text_seed_;
    const std::string device_;
    const Clock::time_point started_ = Clock::now();
    ModelGate gate_;
    // Seconds of model time per entity, a moving average of the forward calls seen; it predicts
    // whether a request can finish within the request timeout.
    std::atomic<double> seconds_per_entity_{0.0};
    std::atomic<int64_t> answered_{0};
    mutable std::atomic<int64_t> refused_{0};  // counted where error bodies are made
};

}  // namespace gasm::app
