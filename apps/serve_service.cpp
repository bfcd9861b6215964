// SPDX-License-Identifier: MIT
// The service behind `gasm_gpu serve`: requests to scenes, the limits, the model gate and the
// JSON answers. Status codes: 400 for a body that is not the documented JSON, 413 for one over a
// size limit, 422 for a well-formed request the model refuses (a text without an entity, an
// index out of range), 503 when the model cannot start the request within its time.
#include "apps/serve_service.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>

#include "host/build_info.hpp"
#include "host/errors.hpp"
#include "host/text/text_frontend.hpp"
#include "io/json_keys.hpp"
#include "io/scenes.hpp"

namespace gasm::app {

using nlohmann::json;

namespace {

// A refusal with its HTTP status; thrown while a request is read, caught in process/batch.
struct Refusal {
    int status;
    std::string message;
};

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

json parse_body(const std::string& body) {
    if (const auto at = find_nul_byte(body))
        throw Refusal{400, "the request body is not valid JSON (a NUL byte at byte " +
                               std::to_string(*at) + ")"};
    try {
        json j = json::parse(body);
        if (!j.is_object()) throw Refusal{400, "the request body must be a JSON object"};
        if (const auto problem = find_json_key_problem(body))
            throw Refusal{400, "the field '" + problem->path + "': " + problem->what};
        return j;
    } catch (const json::parse_error& e) {
        throw Refusal{400,
                      "the request body is not valid JSON (byte " + std::to_string(e.byte) + ")"};
    } catch (const json::exception&) {  // a number beyond a double, say
        throw Refusal{400, "the request body is not valid JSON (a number out of range)"};
    }
}

// Refuses any key of `request` other than the allowed ones, so that a misspelt field is an error
// rather than silently ignored.
void allow_only(const json& request, std::initializer_list<const char*> keys) {
    for (auto it = request.begin(); it != request.end(); ++it) {
        bool known = false;
        for (const char* k : keys) known = known || it.key() == k;
        if (!known) throw Refusal{400, "unknown field '" + shown_in_message(it.key()) + "'"};
    }
}

}  // namespace

ModelGate::Entry ModelGate::enter(Clock::time_point deadline) {
    if (inside_.fetch_add(1) >= slots_) {
        inside_.fetch_sub(1);
        return Entry::full;
    }
    if (!model_.try_lock_until(deadline)) {
        inside_.fetch_sub(1);
        return Entry::timed_out;
    }
    return Entry::entered;
}

void ModelGate::leave() {
    model_.unlock();
    inside_.fetch_sub(1);
}

Service::Service(Engine& engine, const ServeLimits& limits, uint64_t text_seed, int model_slots)
    : engine_(engine),
      limits_(limits),
      text_seed_(text_seed),
      device_(engine.backend->device_name()),
      gate_(model_slots) {}

void Service::warm_up() {
    text::TextOptions topt;
    topt.feature_dim = engine_.backend->config().feature_dim;
    topt.seed = text_seed_;
    SceneBatch batch;
    batch.feature_dim = topt.feature_dim;
    batch.append(text::scene_from_text(kExampleSentence, topt, "the warm-up sentence"), "warm-up");
    run_batch(engine_, batch);  // the first call pays for allocations; time the second
    const auto t0 = Clock::now();
    run_batch(engine_, batch);
    const double s = seconds_since(t0);
    seconds_per_entity_.store(s / static_cast<double>(batch.total_entities()));
    spdlog::info("Warm-up: {} entities in {:.1f} ms", batch.total_entities(), s * 1e3);
}

json Service::stamp(json body) const {
    body["device"] = device_;
    body["weights"] = {{"path", engine_.weights.path}, {"content_sha256", digest()}};
    return body;
}

Reply Service::error(int status, const std::string& message) const {
    refused_.fetch_add(1);
    return {status, stamp({{"error", message}})};
}

Reply Service::health() const {
    json j = {{"status", "ok"},
              {"uptime_seconds", seconds_since(started_)},
              {"requests",
               {{"answered", answered_.load()},
                {"refused", refused_.load()},
                {"at_the_model", gate_.inside()}}},
              {"gasm_gpu_version", build::kVersion}};
    return {200, stamp(std::move(j))};
}

Reply Service::info() const {
    const Weights& w = *engine_.weights.weights;
    const ModelConfig& c = w.config;
    std::error_code ec;
    const auto file_bytes = std::filesystem::file_size(engine_.weights.path, ec);
    json weights = {{"path", engine_.weights.path},
                    {"content_sha256", digest()},
                    {"parameter_count", w.parameter_count()},
                    {"tensor_bytes", w.parameter_count() * int64_t{4}},
                    {"file_bytes", engine_.weights.persisted && !ec ? json(file_bytes) : json()},
                    {"seed", w.seed ? json(*w.seed) : json()},
                    {"generator", w.generator}};
    json j = {{"model",
               {{"feature_dim", c.feature_dim},
                {"hidden_dim", c.hidden_dim},
                {"output_dim", c.output_dim},
                {"num_heads", c.num_heads},
                {"max_iterations", c.max_iterations},
                {"curvature", curvature_name(engine_.run_options.curvature)}}},
              {"parameter_count", w.parameter_count()},
              {"limits",
               {{"max_body_bytes", limits_.max_body},
                {"max_batch", limits_.max_batch},
                {"max_text_bytes", limits_.max_text},
                {"max_entities", limits_.max_entities},
                {"max_scene_entities", limits_.max_scene_entities},
                {"request_timeout_seconds", limits_.request_timeout}}},
              {"gasm_gpu_version", build::kVersion}};
    j = stamp(std::move(j));
    j["weights"] = std::move(weights);  // the full record, over stamp's short one
    return {200, std::move(j)};
}

void Service::add_text(const json& text, const std::string& where, SceneBatch& batch) const {
    if (!text.is_string()) throw Refusal{400, where + ": expected a string"};
    const std::string& s = text.get_ref<const std::string&>();
    if (s.size() > limits_.max_text)
        throw Refusal{413, where + ": " + std::to_string(s.size()) +
                               " bytes is over the limit of " + std::to_string(limits_.max_text)};
    text::TextOptions topt;
    topt.feature_dim = batch.feature_dim;
    topt.seed = text_seed_;
    topt.max_entities = limits_.max_entities;
    topt.max_bytes = limits_.max_text;
    try {
        batch.append(text::scene_from_text(s, topt, where), where);
    } catch (const InputError& e) {
        // The text is well-formed; the model refuses it (no entity, say).
        throw Refusal{422, e.what()};
    }
}

void Service::add_scene(const json& scene, const std::string& where, SceneBatch& batch) const {
    if (!scene.is_object()) throw Refusal{400, where + ": expected a scene object"};
    // Counted before the features are read, so an oversized scene costs no parsing.
    if (scene.contains("entities") && scene["entities"].is_array() &&
        scene["entities"].size() > static_cast<size_t>(limits_.max_scene_entities))
        throw Refusal{413, where + ": " + std::to_string(scene["entities"].size()) +
                               " entities is over the limit of " +
                               std::to_string(limits_.max_scene_entities)};
    Scene s;
    try {
        s = scene_from_json(scene, batch.feature_dim, where);
    } catch (const InputError& e) {
        throw Refusal{400, e.what()};  // a field of the wrong type, size or name
    }
    try {
        batch.append(s, where);
    } catch (const InputError& e) {
        throw Refusal{422, e.what()};  // well-typed but unusable: an index out of range, NaN
    }
}

SceneBatch Service::scenes_for_process(const json& request) const {
    SceneBatch batch;
    batch.feature_dim = engine_.backend->config().feature_dim;
    if (request.contains("text")) {
        allow_only(request, {"text"});
        add_text(request["text"], "text", batch);
    } else if (request.contains("entities")) {
        add_scene(request, "scene", batch);
    } else {
        throw Refusal{400, "expected {\"text\": \"...\"} or a scene object with \"entities\""};
    }
    return batch;
}

SceneBatch Service::scenes_for_batch(const json& request) const {
    const bool texts = request.contains("texts");
    if (texts == request.contains("scenes"))
        throw Refusal{400, "expected {\"texts\": [...]} or {\"scenes\": [...]}"};
    const char* key = texts ? "texts" : "scenes";
    allow_only(request, {key});
    const json& items = request[key];
    if (!items.is_array()) throw Refusal{400, std::string(key) + ": expected an array"};
    if (items.empty()) throw Refusal{400, std::string(key) + ": the batch is empty"};
    if (items.size() > static_cast<size_t>(limits_.max_batch))
        throw Refusal{413, std::string(key) + ": " + std::to_string(items.size()) +
                               " items is over the batch limit of " +
                               std::to_string(limits_.max_batch)};
    SceneBatch batch;
    batch.feature_dim = engine_.backend->config().feature_dim;
    for (size_t i = 0; i < items.size(); ++i) {
        const std::string where = std::string(key) + "[" + std::to_string(i) + "]";
        texts ? add_text(items[i], where, batch) : add_scene(items[i], where, batch);
    }
    return batch;
}

Reply Service::run(const SceneBatch& batch, Clock::time_point arrival) {
    const double timeout = limits_.request_timeout;
    const double estimate =
        seconds_per_entity_.load() * static_cast<double>(batch.total_entities());
    if (estimate > timeout)
        throw Refusal{503, fmt::format("this request would need about {:.1f} s of model time, "
                                       "over the limit of {:g} s; send fewer or smaller scenes",
                                       estimate, timeout)};
    const auto deadline = arrival + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(timeout));
    const ModelGate::Entry entry = gate_.enter(deadline);
    if (entry == ModelGate::Entry::full)
        throw Refusal{503, "the model is busy (" + std::to_string(gate_.inside()) +
                               " requests waiting); try again shortly"};
    if (entry == ModelGate::Entry::timed_out)
        throw Refusal{503, fmt::format("the model could not start this request within {:g} s; "
                                       "try again shortly",
                                       timeout)};
    const auto t0 = Clock::now();
    BatchResult result;
    try {
        result = run_batch(engine_, batch);
    } catch (...) {
        gate_.leave();
        throw;
    }
    const double model_seconds = seconds_since(t0);
    // Only forward calls update the average, and they take turns, so one writer at a time.
    const double sample = model_seconds / static_cast<double>(batch.total_entities());
    const double old = seconds_per_entity_.load();
    seconds_per_entity_.store(old > 0 ? 0.8 * old + 0.2 * sample : sample);
    gate_.leave();

    RunFacts facts;
    facts.device = device_;
    facts.weights_path = engine_.weights.path;
    facts.weights_digest = digest();
    facts.seconds_model = model_seconds;
    facts.seconds_total = seconds_since(arrival);
    return {200, results_to_json(batch, result, facts)};
}

Reply Service::answer(const std::string& body, Clock::time_point arrival, bool is_batch) {
    try {
        const json request = parse_body(body);
        Reply r = run(is_batch ? scenes_for_batch(request) : scenes_for_process(request), arrival);
        answered_.fetch_add(1);
        return r;
    } catch (const Refusal& r) {
        Reply e = error(r.status, r.message);
        if (r.status == 503) e.retry_after = 1;
        return e;
    }
}

Reply Service::process(const std::string& body, Clock::time_point arrival) {
    return answer(body, arrival, /*is_batch=*/false);
}

Reply Service::batch(const std::string& body, Clock::time_point arrival) {
    return answer(body, arrival, /*is_batch=*/true);
}

}  // namespace gasm::app
