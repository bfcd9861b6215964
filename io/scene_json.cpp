// SPDX-License-Identifier: MIT
// The JSON scene format: {"scenes": [{"entities": [{"name", "features"}], "relations",
// "edges", "constraints": {"distance", "collision", "angle"}}]}. Every field is type-checked.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>

#include "host/errors.hpp"
#include "io/json_keys.hpp"
#include "io/scenes.hpp"

namespace gasm {

using nlohmann::json;

namespace {

[[noreturn]] void refuse(const std::string& where, const std::string& field,
                         const std::string& problem) {
    throw InputError(where + ", field '" + field + "': " + problem);
}

// A real value: finite and at most kMaxInputMagnitude in size (so that a float32 copy, and the
// model's sums of them, stay finite).
double number(const json& v, const std::string& where, const std::string& field) {
    if (!v.is_number())
        refuse(where, field, "expected a number, got " + std::string(v.type_name()));
    double d = v.get<double>();
    if (!std::isfinite(d)) refuse(where, field, "non-finite number");
    if (std::fabs(d) > kMaxInputMagnitude)
        refuse(where, field, "value " + v.dump() + " is larger than the input limit of 1e30");
    return d;
}

float float_value(const json& v, const std::string& where, const std::string& field) {
    return static_cast<float>(number(v, where, field));
}

int64_t index(const json& v, const std::string& where, const std::string& field) {
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        refuse(where, field, "index " + v.dump() + " is far out of range");
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) {
        double d = v.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15)
            return static_cast<int64_t>(d);
    }
    refuse(where, field,
           "expected an integer index, got " +
               (v.is_number() ? v.dump() : std::string(v.type_name())));
}

// Refuses a key that the format does not have, so a misspelt field ("relation", "feature")
// is an error instead of an input silently run without it.
void known_keys_only(const json& obj, std::initializer_list<const char*> keys,
                     const std::string& where, const std::string& prefix) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        bool known = false;
        std::string list;
        for (const char* k : keys) {
            known = known || it.key() == k;
            list += (list.empty() ? "" : ", ") + std::string(k);
        }
        if (!known)
            refuse(where, prefix + shown_in_message(it.key()),
                   "unknown field (this object has: " + list + ")");
    }
}

const json& array_field(const json& obj, const char* key, const std::string& where,
                        const std::string& field) {
    const json& v = obj.at(key);
    if (!v.is_array()) refuse(where, field, "expected an array, got " + std::string(v.type_name()));
    return v;
}

void read_entities(const json& j, int64_t F, const std::string& where, Scene& s) {
    if (!j.contains("entities")) refuse(where, "entities", "missing");
    const json& ents = array_field(j, "entities", where, "entities");
    if (ents.empty()) refuse(where, "entities", "the scene has no entities");
    // F comes from the weights; a reservation never trusts it beyond what a JSON file can hold.
    if (F > 0 &&
        ents.size() <= (size_t{1} << 24) / static_cast<size_t>(std::min<int64_t>(F, 1 << 24)))
        s.features.reserve(ents.size() * static_cast<size_t>(F));
    for (size_t i = 0; i < ents.size(); ++i) {
        const std::string field = "entities[" + std::to_string(i) + "]";
        const json& e = ents[i];
        if (!e.is_object()) refuse(where, field, "expected an object");
        known_keys_only(e, {"name", "type", "features"}, where, field + ".");
        if (e.contains("name") && !e["name"].is_string())
            refuse(where, field + ".name", "expected a string");
        s.names.push_back(e.contains("name") ? e["name"].get<std::string>()
                                             : "entity_" + std::to_string(i));
        if (e.contains("type") && !e["type"].is_string() && !e["type"].is_null())
            refuse(where, field + ".type", "expected a string");
        s.types.push_back(e.contains("type") && e["type"].is_string() ? e["type"].get<std::string>()
                                                                      : "");
        if (!e.contains("features")) refuse(where, field + ".features", "missing");
        const json& f = e["features"];
        if (!f.is_array()) refuse(where, field + ".features", "expected an array");
        if (static_cast<int64_t>(f.size()) != F)
            refuse(where, field + ".features",
                   "has " + std::to_string(f.size()) + " values but the weights expect " +
                       std::to_string(F));
        for (size_t c = 0; c < f.size(); ++c)
            s.features.push_back(
                float_value(f[c], where, field + ".features[" + std::to_string(c) + "]"));
    }
}

void read_relations(const json& j, const std::string& where, Scene& s) {
    if (!j.contains("relations") || j["relations"].is_null()) return;
    const json& R = array_field(j, "relations", where, "relations");
    const size_t n = s.names.size();
    if (R.size() != n)
        refuse(
            where, "relations",
            "expected " + std::to_string(n) + " rows (sources), got " + std::to_string(R.size()));
    for (size_t a = 0; a < n; ++a) {
        const std::string fa = "relations[" + std::to_string(a) + "]";
        if (!R[a].is_array() || R[a].size() != n)
            refuse(where, fa, "expected " + std::to_string(n) + " columns (targets)");
        for (size_t b = 0; b < n; ++b) {
            const std::string fb = fa + "[" + std::to_string(b) + "]";
            const json& v = R[a][b];
            if (!v.is_array() || v.empty()) refuse(where, fb, "expected a non-empty array");
            if (s.relation_dim == 0) s.relation_dim = static_cast<int64_t>(v.size());
            if (static_cast<int64_t>(v.size()) != s.relation_dim)
                refuse(where, fb,
                       "relation vectors differ in length (" + std::to_string(v.size()) + " vs " +
                           std::to_string(s.relation_dim) + ")");
            for (size_t c = 0; c < v.size(); ++c)
                s.relations.push_back(float_value(v[c], where, fb + "[" + std::to_string(c) + "]"));
        }
    }
}

void read_edges(const json& j, const std::string& where, Scene& s) {
    if (!j.contains("edges") || j["edges"].is_null()) return;
    const json& E = array_field(j, "edges", where, "edges");
    s.custom_edges = true;
    for (size_t e = 0; e < E.size(); ++e) {
        const std::string field = "edges[" + std::to_string(e) + "]";
        if (!E[e].is_array() || E[e].size() != 2) refuse(where, field, "expected [source, target]");
        s.edges.push_back({index(E[e][0], where, field), index(E[e][1], where, field)});
    }
}

void read_constraints(const json& j, const std::string& where, Scene& s) {
    if (!j.contains("constraints") || j["constraints"].is_null()) return;
    const json& c = j["constraints"];
    if (!c.is_object()) refuse(where, "constraints", "expected an object");
    for (auto it = c.begin(); it != c.end(); ++it)
        if (it.key() != "distance" && it.key() != "collision" && it.key() != "angle")
            refuse(where, "constraints." + shown_in_message(it.key()), "unknown constraint kind");
    if (c.contains("distance")) {
        const json& d = array_field(c, "distance", where, "constraints.distance");
        for (size_t k = 0; k < d.size(); ++k) {
            const std::string f = "constraints.distance[" + std::to_string(k) + "]";
            if (!d[k].is_array() || d[k].size() != 3) refuse(where, f, "expected [i, j, d]");
            s.distance.push_back(
                {index(d[k][0], where, f), index(d[k][1], where, f), number(d[k][2], where, f)});
        }
    }
    if (c.contains("angle")) {
        const json& a = array_field(c, "angle", where, "constraints.angle");
        for (size_t k = 0; k < a.size(); ++k) {
            const std::string f = "constraints.angle[" + std::to_string(k) + "]";
            if (!a[k].is_array() || a[k].size() != 4) refuse(where, f, "expected [i, j, k, theta]");
            s.angle.push_back({index(a[k][0], where, f), index(a[k][1], where, f),
                               index(a[k][2], where, f), number(a[k][3], where, f)});
        }
    }
    if (c.contains("collision") && !c["collision"].is_null())
        s.collision = number(c["collision"], where, "constraints.collision");
}

}  // namespace

Scene scene_from_json(const json& j, int64_t feature_dim, const std::string& where) {
    if (!j.is_object()) throw InputError(where + ": expected a scene object");
    known_keys_only(j, {"entities", "relations", "edges", "constraints", "text"}, where, "");
    Scene s;
    read_entities(j, feature_dim, where, s);
    read_relations(j, where, s);
    read_edges(j, where, s);
    read_constraints(j, where, s);
    if (j.contains("text") && !j["text"].is_null()) {
        if (!j["text"].is_string()) refuse(where, "text", "expected a string");
        s.label = j["text"].get<std::string>();
    }
    return s;
}

SceneBatch read_scenes_json(const std::string& path, int64_t feature_dim,
                            const InputLimits& limits) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) throw InputError(path + ": cannot read the input file");
    if (!S_ISREG(st.st_mode)) throw InputError(path + ": not a regular file");
    if (st.st_size > limits.max_file_bytes)
        throw InputError(path + ": " + std::to_string(st.st_size) + " bytes is over the JSON " +
                         "input limit of " + std::to_string(limits.max_file_bytes) +
                         " bytes; use the HDF5 batch format for large jobs");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot open the input file");
    if (const auto at = find_nul_byte(in))
        throw InputError(path + ": not valid JSON (a NUL byte at byte " + std::to_string(*at) +
                         "; inside a string it is written \\u0000)");
    in.clear();
    in.seekg(0);
    if (const auto problem = find_json_key_problem(in))
        throw InputError(path + ", field '" + problem->path + "': " + problem->what);
    in.clear();
    in.seekg(0);
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::parse_error& e) {
        throw InputError(path + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
    } catch (const json::exception& e) {  // e.g. a number too large for a double
        throw InputError(path + ": not valid JSON (" + e.what() + ")");
    }
    if (!doc.is_object() || !doc.contains("scenes") || !doc["scenes"].is_array())
        throw InputError(path + ", field 'scenes': expected an object with a \"scenes\" array");
    known_keys_only(doc, {"scenes"}, path, "");
    const json& scenes = doc["scenes"];
    if (scenes.empty()) throw InputError(path + ", field 'scenes': the file holds no scene");
    SceneBatch batch;
    batch.feature_dim = feature_dim;
    for (size_t s = 0; s < scenes.size(); ++s) {
        const std::string where = path + ", scene " + std::to_string(s);
        Scene sc = scene_from_json(scenes[s], feature_dim, where);
        if (sc.size() > limits.max_entities_per_scene)
            throw InputError(where + ", field 'entities': over the limit of " +
                             std::to_string(limits.max_entities_per_scene) + " entities");
        batch.append(sc, where);
    }
    return batch;
}

}  // namespace gasm
