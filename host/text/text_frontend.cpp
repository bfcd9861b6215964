// SPDX-License-Identifier: MIT
// Entry points of the text front end: input checks, the analysis (analysis.cpp and the
// stages it runs), and the Scene built from it, features included. Feature block layout: F
// columns split into three blocks of F / 3 columns, the last block taking the remainder (F =
// 770: 256, 256, 258; F < 3: only the last block exists). Block 0 holds the type's value,
// block 1 i / n, block 2 the name's length in code points / 20; every element gets 0.1 times
// Philox normal number i * F + c of the seed's stream, so the features are the same on every
// machine.
#include "host/text/text_frontend.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "host/errors.hpp"
#include "host/philox.hpp"
#include "host/scene.hpp"
#include "host/text/analysis.hpp"
#include "host/text/utf8.hpp"

namespace gasm::text {
namespace {

constexpr float kNoiseScale = 0.1f;
constexpr float kNameLengthScale = 20.0f;
constexpr size_t kSnippetBytes = 60;

void check_options(const TextOptions& o) {
    if (o.feature_dim < 1) {
        throw UsageError("text front end: feature_dim must be at least 1, got " +
                         std::to_string(o.feature_dim));
    }
    if (o.max_entities < 1) {
        throw UsageError("text front end: max_entities must be at least 1, got " +
                         std::to_string(o.max_entities));
    }
}

void check_text(std::string_view text, const TextOptions& o, const std::string& where) {
    if (text.size() > o.max_bytes) {
        throw InputError(where + ": the text is " + std::to_string(text.size()) +
                         " bytes, over the limit of " + std::to_string(o.max_bytes) + " bytes");
    }
    if (size_t bad = utf8::first_invalid(text); bad != utf8::npos) {
        throw InputError(where + ": invalid UTF-8 at byte " + std::to_string(bad));
    }
}

// The start of a valid UTF-8 text, cut on a code point boundary, for error messages.
std::string snippet(std::string_view text) {
    if (text.size() <= kSnippetBytes) return std::string(text);
    size_t cut = kSnippetBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut)) + "...";
}

std::vector<float> features(const std::vector<Entity>& entities, int64_t F, uint64_t seed) {
    size_t n = entities.size(), f = static_cast<size_t>(F);
    size_t block = f / 3;
    std::vector<float> noise = philox::normals(seed, 0, n * f);
    std::vector<float> out(n * f);
    for (size_t i = 0; i < n; ++i) {
        float values[3] = {
            class_value(entities[i].cls),
            static_cast<float>(static_cast<double>(i) / static_cast<double>(n)),
            static_cast<float>(utf8::length(entities[i].name)) / kNameLengthScale,
        };
        for (size_t c = 0; c < f; ++c) {
            size_t b = block == 0 ? 2 : std::min<size_t>(c / block, 2);
            out[i * f + c] = values[b] + kNoiseScale * noise[i * f + c];
        }
    }
    return out;
}

// Reads one line into `line` (without the '\n'); false at the end of the file. Stops
// reading a line past `limit` bytes and sets too_long, so one endless line cannot exhaust
// memory.
bool read_line(std::istream& in, std::string& line, size_t limit, bool& too_long) {
    line.clear();
    too_long = false;
    std::streambuf* buf = in.rdbuf();
    int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) return false;
    while (c != std::char_traits<char>::eof() && c != '\n') {
        if (line.size() > limit) {
            too_long = true;
            return true;
        }
        line.push_back(static_cast<char>(c));
        c = buf->sbumpc();
    }
    return true;
}

bool blank(std::string_view s) {
    return s.find_first_not_of(" \t\r\f\v") == std::string_view::npos;
}

}  // namespace

gasm::Scene scene_from_text(std::string_view text, const TextOptions& options,
                            const std::string& where) {
    check_options(options);
    check_text(text, options, where);
    Analysis a = analyse(text, options.max_entities);
    if (a.entities.empty()) {
        throw InputError("no entity found in " + where + ": \"" + snippet(text) +
                         "\" (name at least one object, e.g. \"the box\")");
    }
    gasm::Scene scene;
    for (const Entity& e : a.entities) {
        scene.names.push_back(e.name);
        scene.types.emplace_back(class_name(e.cls));
    }
    scene.features = features(a.entities, options.feature_dim, options.seed);
    scene.relations = relation_tensor(a);
    scene.relation_dim = kRelationDim;
    add_constraints(a, scene.distance, scene.angle);
    // A measurement beyond what the model takes ("10^40 m" written out, "3e40 m") is the text's
    // to fix: refused here, in the words a batch uses, never built into a scene.
    for (size_t c = 0; c < scene.distance.size(); ++c)
        if (!(scene.distance[c].target <= gasm::kMaxInputMagnitude))
            throw InputError(where + ", field 'constraints.distance[" + std::to_string(c) +
                             "]': target distance is larger than the input limit of 1e30");
    for (size_t c = 0; c < scene.angle.size(); ++c)
        if (!(std::fabs(scene.angle[c].theta) <= gasm::kMaxInputMagnitude))
            throw InputError(where + ", field 'constraints.angle[" + std::to_string(c) +
                             "]': angle is larger than the input limit of 1e30");
    scene.label = std::string(text);
    return scene;
}

std::vector<gasm::Scene> scenes_from_text_file(const std::string& path,
                                               const TextOptions& options) {
    check_options(options);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
    std::vector<gasm::Scene> scenes;
    std::string line;
    bool too_long = false;
    for (size_t number = 1; read_line(in, line, options.max_bytes, too_long); ++number) {
        std::string where = path + ", line " + std::to_string(number);
        if (too_long) {
            throw InputError(where + ": the line is longer than the limit of " +
                             std::to_string(options.max_bytes) + " bytes");
        }
        if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (blank(line)) continue;
        scenes.push_back(scene_from_text(line, options, where));
    }
    if (in.bad()) throw InputError(path + ": read error");
    if (scenes.empty()) throw InputError(path + ": no non-empty line, so no scene");
    return scenes;
}

}  // namespace gasm::text
