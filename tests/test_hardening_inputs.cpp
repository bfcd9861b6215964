// SPDX-License-Identifier: MIT
// Scene inputs are checked field by field before use (issue "Nothing lost, nothing let in").
// Two tables: JSON scene files written here, and HDF5 batch files built by Debian's
// /usr/bin/python3 with h5py. Every bad file must exit 4 with one message naming the file, the
// scene (where the fault is in one) and the field, print nothing on stdout, write no --output
// file and leave the weight file alone; headers that declare more data than the file stores
// are refused before anything is allocated. Degenerate but legal scenes (N = 1, identical
// entities, all-zero features, an isolated entity, an empty edge list) must give finite
// results.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/test_support.hpp"

namespace gasm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::read_file;
using testing::run_gasm;
using testing::run_shell;
using testing::sha256_file;
using testing::TempDir;

constexpr int kF = 48;

json entity(int i, float scale = 1.0f) {
    std::vector<float> f(kF);
    for (int c = 0; c < kF; ++c) f[c] = scale * std::sin(0.37f * static_cast<float>(i * kF + c));
    return {{"name", "e" + std::to_string(i)}, {"features", f}};
}

// A good scene of three entities, which each case then spoils.
json good_scene() {
    return {{"entities", {entity(0), entity(1), entity(2)}}};
}

json doc(const json& scene) {
    return {{"scenes", {scene}}};
}

struct JsonCase {
    const char* name;
    std::function<std::string()> text;
    std::vector<std::string> mentions;  // besides the file's path
};

// Each case's text from a change to the good scene.
std::function<std::string()> spoil(std::function<void(json&)> change) {
    return [change] {
        json s = good_scene();
        change(s);
        return doc(s).dump();
    };
}

std::function<std::string()> raw(std::string text) {
    return [text] { return text; };
}

// The good document's text with `extra` written right after the first occurrence of `after`:
// a key written twice, which a json value cannot hold.
std::function<std::string()> insert_after(std::string after, std::string extra) {
    return [after, extra] {
        std::string t = doc(good_scene()).dump();
        const size_t at = t.find(after);
        return at == std::string::npos ? t : t.insert(at + after.size(), extra);
    };
}

std::string relations(int n, int r, float v = 0.5f) {
    json R = json::array();
    for (int a = 0; a < n; ++a) {
        json row = json::array();
        for (int b = 0; b < n; ++b) row.push_back(std::vector<float>(r, v));
        R.push_back(row);
    }
    return R.dump();
}

const std::vector<JsonCase> kJsonCases = {
    {"not_json", raw("hello"), {"not valid JSON"}},
    {"empty_file", raw(""), {"not valid JSON"}},
    {"truncated",
     [] {
         std::string t = doc(good_scene()).dump();
         return t.substr(0, t.size() / 2);
     },
     {"not valid JSON"}},
    {"top_level_array", raw("[1, 2]"), {"field 'scenes'"}},
    {"scenes_missing", raw("{\"x\": 1}"), {"field 'scenes'"}},
    {"scenes_not_array", raw("{\"scenes\": {}}"), {"field 'scenes'"}},
    {"scenes_empty", raw("{\"scenes\": []}"), {"field 'scenes'", "no scene"}},
    {"scene_not_object", raw("{\"scenes\": [3]}"), {"scene 0", "expected a scene object"}},
    {"deep_nesting",
     [] { return std::string(100000, '[') + std::string(100000, ']'); },
     {"nested deeper than 64 levels"}},
    {"deep_nesting_inside_a_scene",
     [] {
         return "{\"scenes\": [{\"entities\": " + std::string(70, '[') + std::string(70, ']') +
                "}]}";
     },
     {"field 'scenes[0].entities[0][0]", "nested deeper than 64 levels"}},
    {"unknown_key_with_a_nul",
     raw("{\"scenes\": [], \"a\\u0000b\": 1}"),
     {"field 'a?b': unknown field (this object has: scenes)"}},
    {"nul_byte_then_garbage",
     [] { return doc(good_scene()).dump() + std::string(1, '\0') + "garbage"; },
     {"not valid JSON", "a NUL byte"}},
    {"nul_byte_inside_the_document",
     [] {
         std::string t = doc(good_scene()).dump();
         return t.insert(t.size() / 2, 1, '\0');
     },
     {"not valid JSON", "a NUL byte"}},
    {"entity_name_with_a_nul",
     spoil([](json& s) { s["entities"][1]["name"] = std::string("a\0b", 3); }),
     {"scene 0, field 'entities[1].name'", "NUL character"}},
    {"entity_type_with_a_nul",
     spoil([](json& s) { s["entities"][0]["type"] = std::string("x\0", 2); }),
     {"scene 0, field 'entities[0].type'", "NUL character"}},
    {"misspelt_scene_key",
     spoil([](json& s) { s["relation"] = json::array(); }),
     {"scene 0, field 'relation'", "unknown field"}},
    {"misspelt_entity_key",
     spoil([](json& s) { s["entities"][1]["feature"] = json::array(); }),
     {"scene 0, field 'entities[1].feature'", "unknown field"}},
    {"misspelt_top_level_key",
     raw("{\"scenes\": [], \"scene\": 1}"),
     {"field 'scene'", "unknown field"}},
    {"duplicate_top_level_key",
     raw("{\"scenes\": [], \"scenes\": [{\"entities\": []}]}"),
     {"field 'scenes'", "twice"}},
    {"duplicate_scene_key",
     insert_after("{\"scenes\":[{", "\"entities\":[],"),
     {"field 'scenes[0].entities'", "twice"}},
    {"duplicate_entity_key",
     insert_after("\"name\":\"e0\"", ",\"name\":\"other\""),
     {"field 'scenes[0].entities[0].name'", "twice"}},
    {"entities_missing",
     spoil([](json& s) { s.erase("entities"); }),
     {"scene 0, field 'entities'", "missing"}},
    {"entities_not_array",
     spoil([](json& s) { s["entities"] = 5; }),
     {"scene 0, field 'entities'"}},
    {"entities_empty",
     spoil([](json& s) { s["entities"] = json::array(); }),
     {"scene 0, field 'entities'", "no entities"}},
    {"entity_not_object",
     spoil([](json& s) { s["entities"][1] = "e1"; }),
     {"scene 0, field 'entities[1]'"}},
    {"name_not_string",
     spoil([](json& s) { s["entities"][0]["name"] = 7; }),
     {"field 'entities[0].name'"}},
    {"type_not_string",
     spoil([](json& s) { s["entities"][2]["type"] = json::array(); }),
     {"field 'entities[2].type'"}},
    {"features_missing",
     spoil([](json& s) { s["entities"][1].erase("features"); }),
     {"field 'entities[1].features'", "missing"}},
    {"features_not_array",
     spoil([](json& s) { s["entities"][0]["features"] = 1.0; }),
     {"field 'entities[0].features'"}},
    {"features_too_few",
     spoil([](json& s) { s["entities"][0]["features"].erase(0); }),
     {"field 'entities[0].features'", "has 47 values but the weights expect 48"}},
    {"features_too_many",
     spoil([](json& s) { s["entities"][2]["features"].push_back(1.0); }),
     {"field 'entities[2].features'", "has 49 values"}},
    {"feature_string",
     spoil([](json& s) { s["entities"][0]["features"][3] = "0.5"; }),
     {"field 'entities[0].features[3]'", "expected a number"}},
    {"feature_null",
     spoil([](json& s) { s["entities"][1]["features"][5] = nullptr; }),
     {"field 'entities[1].features[5]'"}},
    {"feature_bool",
     spoil([](json& s) { s["entities"][1]["features"][0] = true; }),
     {"field 'entities[1].features[0]'"}},
    {"feature_nan_literal",
     [] {
         std::string t = doc(good_scene()).dump();
         return t.replace(t.find("[", t.find("features")) + 1, 0, "NaN, ");
     },
     {"not valid JSON"}},
    {"feature_above_limit",
     spoil([](json& s) { s["entities"][0]["features"][0] = 1e31; }),
     {"field 'entities[0].features[0]'", "limit"}},
    {"feature_above_float_range",
     spoil([](json& s) { s["entities"][1]["features"][2] = -1e39; }),
     {"field 'entities[1].features[2]'", "limit"}},
    {"feature_above_double_range",
     [] {
         std::string t = doc(good_scene()).dump();
         return t.replace(t.find("[", t.find("features")) + 1, 0, "1e400, ");
     },
     {"not valid JSON"}},
    {"relations_not_array", spoil([](json& s) { s["relations"] = "none"; }), {"field 'relations'"}},
    {"relations_wrong_rows",
     spoil([](json& s) { s["relations"] = json::parse(relations(2, 4)); }),
     {"field 'relations'", "expected 3 rows"}},
    {"relations_wrong_columns",
     spoil([](json& s) {
         s["relations"] = json::parse(relations(3, 4));
         s["relations"][1].erase(0);
     }),
     {"field 'relations[1]'", "expected 3 columns"}},
    {"relation_vector_empty",
     spoil([](json& s) {
         s["relations"] = json::parse(relations(3, 4));
         s["relations"][0][1] = json::array();
     }),
     {"field 'relations[0][1]'"}},
    {"relation_lengths_differ",
     spoil([](json& s) {
         s["relations"] = json::parse(relations(3, 4));
         s["relations"][2][0].push_back(0.1);
     }),
     {"field 'relations[2][0]'", "differ in length"}},
    {"relation_not_number",
     spoil([](json& s) {
         s["relations"] = json::parse(relations(3, 4));
         s["relations"][0][0][1] = "x";
     }),
     {"field 'relations[0][0][1]'"}},
    {"relation_above_limit",
     spoil([](json& s) {
         s["relations"] = json::parse(relations(3, 4));
         s["relations"][1][2][0] = 1e35;
     }),
     {"field 'relations[1][2][0]'", "limit"}},
    {"edges_not_array", spoil([](json& s) { s["edges"] = 1; }), {"field 'edges'"}},
    {"edge_not_pair",
     spoil([](json& s) {
         s["edges"] = {{0, 1}, {1, 2, 0}};
     }),
     {"field 'edges[1]'", "[source, target]"}},
    {"edge_index_out_of_range",
     spoil([](json& s) {
         s["edges"] = {{0, 3}};
     }),
     {"field 'edges[0]'", "outside [0, 3)"}},
    {"edge_negative",
     spoil([](json& s) {
         s["edges"] = {{0, 1}, {-1, 2}};
     }),
     {"field 'edges[1]'", "outside [0, 3)"}},
    {"edge_fraction",
     spoil([](json& s) {
         s["edges"] = {{0.5, 1}};
     }),
     {"field 'edges[0]'", "integer"}},
    {"edge_huge",
     spoil([](json& s) {
         s["edges"] = {{1e20, 1}};
     }),
     {"field 'edges[0]'", "integer"}},
    {"edge_uint64_max",
     spoil([](json& s) {
         s["edges"] = {{uint64_t{18446744073709551615u}, 1}};
     }),
     {"field 'edges[0]'", "out of range"}},
    {"edge_string",
     spoil([](json& s) {
         s["edges"] = json::array({json::array({"0", 1})});
     }),
     {"field 'edges[0]'"}},
    {"constraints_not_object",
     spoil([](json& s) { s["constraints"] = json::array(); }),
     {"field 'constraints'"}},
    {"constraints_unknown_kind",
     spoil([](json& s) {
         s["constraints"] = {{"spring", 1}};
     }),
     {"field 'constraints.spring'", "unknown"}},
    {"distance_not_array",
     spoil([](json& s) {
         s["constraints"] = {{"distance", 1}};
     }),
     {"field 'constraints.distance'"}},
    {"distance_row_short",
     spoil([](json& s) {
         s["constraints"]["distance"] = {{0, 1}};
     }),
     {"field 'constraints.distance[0]'", "[i, j, d]"}},
    {"distance_index_out_of_range",
     spoil([](json& s) {
         s["constraints"]["distance"] = {{0, 1, 1.0}, {0, 9, 1.0}};
     }),
     {"field 'constraints.distance[1]'", "outside [0, 3)"}},
    {"distance_same_entity",
     spoil([](json& s) {
         s["constraints"]["distance"] = {{1, 1, 1.0}};
     }),
     {"field 'constraints.distance[0]'", "same entity"}},
    {"distance_negative",
     spoil([](json& s) {
         s["constraints"]["distance"] = {{0, 1, -2.0}};
     }),
     {"field 'constraints.distance[0]'", "non-negative"}},
    {"distance_above_limit",
     spoil([](json& s) {
         s["constraints"]["distance"] = {{0, 1, 1e300}};
     }),
     {"field 'constraints.distance[0]'", "limit"}},
    {"distance_string",
     spoil([](json& s) {
         s["constraints"]["distance"] = {{0, 1, "1 m"}};
     }),
     {"field 'constraints.distance[0]'"}},
    {"angle_row_short",
     spoil([](json& s) {
         s["constraints"]["angle"] = {{0, 1, 2}};
     }),
     {"field 'constraints.angle[0]'"}},
    {"angle_index_out_of_range",
     spoil([](json& s) {
         s["constraints"]["angle"] = {{0, 1, 5, 1.0}};
     }),
     {"field 'constraints.angle[0]'", "outside [0, 3)"}},
    {"angle_arm_at_vertex",
     spoil([](json& s) {
         s["constraints"]["angle"] = {{1, 1, 2, 1.0}};
     }),
     {"field 'constraints.angle[0]'", "vertex"}},
    {"angle_above_limit",
     spoil([](json& s) {
         s["constraints"]["angle"] = {{0, 1, 2, 1e300}};
     }),
     {"field 'constraints.angle[0]'", "limit"}},
    {"collision_negative",
     spoil([](json& s) { s["constraints"]["collision"] = -1.0; }),
     {"field 'constraints.collision'"}},
    {"collision_string",
     spoil([](json& s) { s["constraints"]["collision"] = "1"; }),
     {"field 'constraints.collision'"}},
    {"text_not_string", spoil([](json& s) { s["text"] = 3; }), {"field 'text'"}},
    {"second_scene_bad",
     [] {
         json bad = good_scene();
         bad["entities"][1]["features"].erase(0);
         return json{{"scenes", {good_scene(), bad}}}.dump();
     },
     {"scene 1, field 'entities[1].features'"}},
    {"invalid_utf8_name",
     [] {
         std::string t = doc(good_scene()).dump();
         return t.replace(t.find("\"e1\""), 4, "\"e\xff\"");
     },
     {"not valid JSON"}},
};

// Legal scenes at the edges of what the model sees; each must run with finite results.
const std::vector<std::pair<const char*, std::function<json()>>> kLegalJson = {
    {"single_entity",
     [] {
         return doc({{"entities", {entity(0)}}});
     }},
    {"identical_entities",
     [] {
         json e = entity(3);
         return doc({{"entities", {e, e, e, e}}});
     }},
    {"all_zero_features",
     [] {
         return doc({{"entities", {entity(0, 0.0f), entity(1, 0.0f), entity(2, 0.0f)}}});
     }},
    {"isolated_entity_in_custom_edges",
     [] {
         json s = good_scene();
         s["edges"] = {{0, 1}, {1, 0}};
         return doc(s);
     }},
    {"empty_custom_edge_list",
     [] {
         json s = good_scene();
         s["edges"] = json::array();
         return doc(s);
     }},
    {"single_entity_with_relations_and_collision",
     [] {
         return doc({{"entities", {entity(0)}},
                     {"relations", json::parse(relations(1, 3))},
                     {"constraints", {{"collision", 1.0}}}});
     }},
    {"identical_entities_with_constraints",
     [] {
         json e = entity(2);
         return doc({{"entities", {e, e, e}},
                     {"constraints",
                      {{"distance", {{0, 1, 0.0}, {1, 2, 2.0}}},
                       {"angle", {{0, 1, 2, 3.14159}}},
                       {"collision", 0.5}}}});
     }},
    {"zero_relations",
     [] {
         json s = good_scene();
         s["relations"] = json::parse(relations(3, 2, 0.0f));
         return doc(s);
     }},
    {"explicit_nulls",
     [] {
         json s = good_scene();
         s["relations"] = nullptr;
         s["edges"] = nullptr;
         s["constraints"] = nullptr;
         s["entities"][0]["type"] = nullptr;
         return doc(s);
     }},
    {"values_at_the_limit",
     [] {
         json s = {{"entities", {entity(0, 1e30f), entity(1, -1e30f)}}};
         s["constraints"] = {{"distance", {{0, 1, 1e30}}}, {"angle", json::array()}};
         return doc(s);
     }},
};

// Every number in the results' positions and curvature is a finite number (NaN and infinity
// become null in JSON).
::testing::AssertionResult all_finite(const std::string& out) {
    json j;
    try {
        j = json::parse(out);
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "output is not JSON: " << e.what();
    }
    for (const auto& s : j["scenes"]) {
        for (const auto& e : s["entities"])
            for (const auto& v : e["position"])
                if (!v.is_number() || !std::isfinite(v.get<double>()))
                    return ::testing::AssertionFailure() << "position " << v.dump();
        if (s["curvature_evolution"].empty())
            return ::testing::AssertionFailure() << "no curvature recorded";
        for (const auto& v : s["curvature_evolution"])
            if (!v.is_number() || !std::isfinite(v.get<double>()))
                return ::testing::AssertionFailure() << "curvature " << v.dump();
    }
    return ::testing::AssertionSuccess();
}

// Builds the HDF5 batch cases: NAME.h5 in the output folder for every case of kH5Cases, from a
// good batch of three scenes (3, 1 and 2 entities) with names, relations, edges and all three
// constraint kinds. argv: output folder.
constexpr const char* kH5Builder = R"PY(
import os, sys
import numpy as np
import h5py

out = sys.argv[1]
F = 48
rng = np.random.default_rng(7)

def good():
    sizes = [3, 1, 2]
    offsets = np.cumsum([0] + sizes).astype("<i8")
    T = int(offsets[-1])
    d = {
        "offsets": offsets,
        "features": rng.normal(0, 1, (T, F)).astype("<f4"),
        "names": np.array(["n%d" % i for i in range(T)], dtype=h5py.string_dtype()),
        "relations": rng.uniform(0, 1, (sum(n * n for n in sizes), 4)).astype("<f4"),
        "edge_offsets": np.array([0, 2, 2, 4], "<i8"),
        "edges": np.array([[0, 1], [2, 0], [0, 1], [1, 0]], "<i8"),
        "constraints/distance": np.array([[0, 0, 1, 1.5], [2, 0, 1, 0.5]], "<f8"),
        "constraints/collision": np.array([[0, 0.3]], "<f8"),
        "constraints/angle": np.array([[0, 0, 1, 2, 1.2]], "<f8"),
    }
    return d

def write(name, d, special=None):
    special = special or {}
    with h5py.File(os.path.join(out, name + ".h5"), "w") as f:
        g = f.create_group("scenes")
        for k, v in d.items():
            if k in special:
                special[k](g, k, v)
            else:
                g.create_dataset(k, data=v)
        for k, fn in special.items():
            if k not in d:
                fn(g, k, None)

def unstored(shape, dtype):
    return lambda g, k, v: g.create_dataset(k, shape=shape, dtype=dtype, chunks=True)

cases = {}
def case(fn):
    cases[fn.__name__] = fn
    return fn

@case
def offsets_missing(d): del d["offsets"]
@case
def features_missing(d): del d["features"]
@case
def features_rank1(d): d["features"] = d["features"].reshape(-1)
@case
def features_rank3(d): d["features"] = d["features"].reshape(6, 1, F)
@case
def features_width_47(d): d["features"] = d["features"][:, :47].copy()
@case
def features_int(d): d["features"] = d["features"].astype("<i4")
@case
def features_nan(d): d["features"][3, 5] = np.nan
@case
def features_inf(d): d["features"][5, 0] = -np.inf
@case
def features_above_limit(d): d["features"][4, 1] = 3e38
@case
def offsets_not_from_zero(d): d["offsets"] = d["offsets"] + 1
@case
def offsets_decreasing(d): d["offsets"] = np.array([0, 4, 3, 6], "<i8")
@case
def offsets_end_mismatch(d): d["offsets"] = np.array([0, 3, 4, 5], "<i8")
@case
def offsets_empty_scene(d): d["offsets"] = np.array([0, 3, 3, 6], "<i8")
@case
def offsets_single_value(d): d["offsets"] = np.array([0], "<i8")
@case
def offsets_float(d): d["offsets"] = d["offsets"].astype("<f8")
@case
def offsets_rank2(d): d["offsets"] = d["offsets"].reshape(2, 2)
@case
def offsets_uint64_max(d): d["offsets"] = np.array([0, 3, 4, 2**64 - 1], "<u8")
@case
def features_1e12_rows(d): d["__special"] = {"features": unstored((10**12, F), "<f4")}
@case
def features_declared_not_stored(d):
    # 8 scenes of 2^20 entities: within every limit, but never written (1.5 GiB of fill).
    T = 8 * 2**20
    for k in list(d):
        del d[k]
    d["offsets"] = np.arange(0, T + 1, 2**20, dtype="<i8")
    d["__special"] = {"features": unstored((T, F), "<f4")}
@case
def offsets_1e9_declared(d): d["__special"] = {"offsets": unstored((10**9,), "<i8")}
@case
def relations_wrong_rows(d): d["relations"] = d["relations"][:-1].copy()
@case
def relations_rank1(d): d["relations"] = d["relations"].reshape(-1)
@case
def relations_zero_columns(d): d["relations"] = np.zeros((14, 0), "<f4")
@case
def relations_nan(d): d["relations"][10, 2] = np.nan
@case
def relations_int(d): d["relations"] = d["relations"].astype("<i8")
@case
def relations_above_limit(d): d["relations"][12, 0] = 1e38
@case
def edges_without_offsets(d): del d["edge_offsets"]
@case
def edge_offsets_without_edges(d): del d["edges"]
@case
def edges_three_columns(d): d["edges"] = np.zeros((4, 3), "<i8")
@case
def edges_float(d): d["edges"] = d["edges"].astype("<f8")
@case
def edge_out_of_range(d): d["edges"][1] = [0, 3]
@case
def edge_negative(d): d["edges"][3] = [-1, 0]
@case
def edge_offsets_wrong_length(d): d["edge_offsets"] = np.array([0, 2, 4], "<i8")
@case
def edge_offsets_decreasing(d): d["edge_offsets"] = np.array([0, 3, 2, 4], "<i8")
@case
def edge_offsets_end_mismatch(d): d["edge_offsets"] = np.array([0, 2, 2, 3], "<i8")
@case
def edges_1e9_declared(d):
    del d["edges"]
    d["__special"] = {"edges": unstored((10**9, 2), "<i8")}
    d["edge_offsets"] = np.array([0, 0, 0, 10**9], "<i8")
@case
def names_wrong_count(d): d["names"] = d["names"][:5]
@case
def names_not_strings(d): d["names"] = np.arange(6, dtype="<i4")
@case
def names_invalid_utf8(d):
    d["names"] = np.array([b"a", b"b", b"b", b"\xff\xfe", b"c", b"d"], dtype="S4")
@case
def distance_wrong_columns(d): d["constraints/distance"] = np.zeros((1, 3), "<f8")
@case
def distance_scene_out_of_range(d): d["constraints/distance"][1, 0] = 7
@case
def distance_scene_fraction(d): d["constraints/distance"][1, 0] = 1.5
@case
def distance_index_fraction(d): d["constraints/distance"][0, 2] = 1.5
@case
def distance_index_out_of_range(d): d["constraints/distance"][0, 2] = 3
@case
def distance_nan(d): d["constraints/distance"][1, 3] = np.nan
@case
def distance_negative(d): d["constraints/distance"][0, 3] = -1
@case
def distance_above_limit(d): d["constraints/distance"][0, 3] = 1e300
@case
def collision_two_rows(d): d["constraints/collision"] = np.array([[0, 0.3], [0, 0.4]], "<f8")
@case
def collision_negative(d): d["constraints/collision"] = np.array([[2, -0.3]], "<f8")
@case
def angle_wrong_columns(d): d["constraints/angle"] = np.zeros((1, 4), "<f8")
@case
def angle_arm_at_vertex(d): d["constraints/angle"] = np.array([[0, 1, 1, 2, 1.0]], "<f8")
@case
def features_external_link(d):
    other = os.path.join(out, "link_target.h5")
    with h5py.File(other, "w") as f:
        f["features"] = d["features"]
    del d["features"]
    link = h5py.ExternalLink(other, "/features")
    d["__special"] = {"features": lambda g, k, v: g.__setitem__(k, link)}
@case
def features_external_storage(d):
    rawfile = os.path.join(out, "features.raw")
    d["features"].tofile(rawfile)
    shape = d["features"].shape
    del d["features"]
    storage = [(rawfile, 0, h5py.h5f.UNLIMITED)]
    d["__special"] = {
        "features": lambda g, k, v: g.create_dataset(k, shape=shape, dtype="<f4", external=storage)}
@case
def member_misspelt(d): d["relation"] = d.pop("relations")
@case
def member_unknown(d): d["labels"] = np.arange(6, dtype="<i8")
@case
def constraint_kind_misspelt(d): d["constraints/distances"] = d.pop("constraints/distance")
@case
def features_small_never_written(d):
    d["__special"] = {"features": unstored(d["features"].shape, "<f4")}
@case
def features_partly_written(d):
    def partly(g, k, v):
        ds = g.create_dataset(k, shape=v.shape, dtype="<f4", chunks=(2, F))
        ds[0:2] = v[0:2]
    d["__special"] = {"features": partly}
@case
def constraints_not_a_group(d):
    for k in [k for k in d if k.startswith("constraints/")]:
        del d[k]
    d["constraints"] = np.array([[0, 0, 1, 5.0]], "<f8")
@case
def constraints_dangling_link(d):
    for k in [k for k in d if k.startswith("constraints/")]:
        del d[k]
    d["__special"] = {"constraints": lambda g, k, v: g.__setitem__(k, h5py.SoftLink("/nowhere"))}
@case
def features_above_limit_in_a_column(d): d["features"][4, 7] = 1.5e30
@case
def legal_features_at_the_limit(d):
    d["features"][0, 0] = np.float32(1e30)
    d["features"][1, 1] = -np.float32(1e30)
    d["relations"][0, 0] = np.float32(1e30)
@case
def legal_good(d): pass
@case
def legal_single_scene_single_entity(d):
    for k in list(d):
        del d[k]
    d["offsets"] = np.array([0, 1], "<i8")
    d["features"] = rng.normal(0, 1, (1, F)).astype("<f4")
@case
def legal_fixed_length_names(d):
    d["names"] = np.array([b"alpha", b"beta", b"gamma", b"delta", b"eps", b"zeta"], dtype="S5")
@case
def legal_chunked_compressed(d):
    v = d.pop("features")
    d["__special"] = {"features": lambda g, k, _: g.create_dataset(
        k, data=v, chunks=(2, F), compression="gzip")}

for name, fn in cases.items():
    d = good()
    fn(d)
    special = d.pop("__special", {})
    write(name, d, special)

# Other groups beside /scenes (provenance kept by another tool, say) are the file's own business.
write("legal_other_root_groups", good())
with h5py.File(os.path.join(out, "legal_other_root_groups.h5"), "a") as f:
    f.create_group("provenance").attrs["tool"] = "a scene generator"
    f["notes"] = np.arange(3)

with h5py.File(os.path.join(out, "scenes_is_a_dataset.h5"), "w") as f:
    f["scenes"] = np.zeros(3)
raw = open(os.path.join(out, "legal_good.h5"), "rb").read()
open(os.path.join(out, "truncated_half.h5"), "wb").write(raw[: len(raw) // 2])
open(os.path.join(out, "truncated_tail.h5"), "wb").write(raw[:-16])
open(os.path.join(out, "text.h5"), "wb").write(b"offsets,features\n0,1\n")
open(os.path.join(out, "empty.h5"), "wb").write(b"")
)PY";

struct H5Case {
    const char* name;
    std::vector<std::string> mentions;
};

const std::vector<H5Case> kH5Cases = {
    {"offsets_missing", {"/scenes/offsets"}},
    {"features_missing", {"/scenes/features"}},
    {"features_rank1", {"field '/scenes/features'", "2 dimensions"}},
    {"features_rank3", {"field '/scenes/features'", "2 dimensions"}},
    {"features_width_47", {"field '/scenes/features'", "47 features per entity"}},
    {"features_int", {"field '/scenes/features'", "floating-point"}},
    {"features_nan", {"scene 1, field 'features'", "non-finite"}},
    {"features_inf", {"scene 2, field 'features'", "non-finite"}},
    {"features_above_limit", {"scene 2, field '/scenes/features'", "limit"}},
    {"offsets_not_from_zero", {"field '/scenes/offsets'", "start at 0"}},
    {"offsets_decreasing", {"field '/scenes/offsets'", "decreases at position 2"}},
    {"offsets_end_mismatch", {"field '/scenes/offsets'", "ends at 5"}},
    {"offsets_empty_scene", {"scene 1, field '/scenes/offsets'", "no entities"}},
    {"offsets_single_value", {"field '/scenes/offsets'", "at least 2"}},
    {"offsets_float", {"field '/scenes/offsets'", "integers"}},
    {"offsets_rank2", {"field '/scenes/offsets'", "1 dimensions"}},
    {"offsets_uint64_max", {"field '/scenes/offsets'"}},
    {"features_1e12_rows", {"field '/scenes/features'", "too large"}},
    {"features_declared_not_stored", {"field '/scenes/features'", "never written"}},
    {"features_small_never_written", {"field '/scenes/features'", "never written"}},
    {"features_partly_written", {"field '/scenes/features'", "only partly written"}},
    {"constraints_not_a_group", {"field '/scenes/constraints'", "expected a group"}},
    {"constraints_dangling_link", {"field '/scenes/constraints'", "expected a group"}},
    {"features_above_limit_in_a_column",
     {"scene 2, field '/scenes/features'", "row 0, column 7", "limit of 1e30"}},
    {"member_misspelt", {"field '/scenes/relation'", "not part of the scene format", "relations"}},
    {"member_unknown", {"field '/scenes/labels'", "not part of the scene format"}},
    {"constraint_kind_misspelt",
     {"field '/scenes/constraints/distances'", "distance, collision, angle"}},
    {"offsets_1e9_declared", {"field '/scenes/offsets'", "declares 999999999 scenes"}},
    {"relations_wrong_rows", {"field '/scenes/relations'", "expected 14 rows"}},
    {"relations_rank1", {"field '/scenes/relations'", "2 dimensions"}},
    {"relations_zero_columns", {"field '/scenes/relations'", "at least one column"}},
    {"relations_nan", {"scene 2, field 'relations'", "non-finite"}},
    {"relations_int", {"field '/scenes/relations'", "floating-point"}},
    {"relations_above_limit", {"scene 2, field '/scenes/relations'", "limit"}},
    {"edges_without_offsets", {"field '/scenes/edges'", "together"}},
    {"edge_offsets_without_edges", {"field '/scenes/edges'", "together"}},
    {"edges_three_columns", {"field '/scenes/edges'", "2 columns"}},
    {"edges_float", {"field '/scenes/edges'", "integers"}},
    {"edge_out_of_range", {"scene 0, field 'edges[1]'", "outside [0, 3)"}},
    {"edge_negative", {"scene 2, field 'edges[1]'", "outside [0, 2)"}},
    {"edge_offsets_wrong_length", {"field '/scenes/edge_offsets'", "expected 4 values"}},
    {"edge_offsets_decreasing", {"field '/scenes/edge_offsets'", "decreases"}},
    {"edge_offsets_end_mismatch", {"field '/scenes/edge_offsets'", "ends at 3"}},
    {"edges_1e9_declared", {"field '/scenes/edges'", "never written"}},
    {"names_wrong_count", {"field '/scenes/names'", "expected 6 names"}},
    {"names_not_strings", {"field '/scenes/names'", "strings"}},
    {"names_invalid_utf8", {"scene 1, field '/scenes/names'", "UTF-8"}},
    {"distance_wrong_columns", {"field '/scenes/constraints/distance'", "4 columns"}},
    {"distance_scene_out_of_range", {"field '/scenes/constraints/distance'", "row 1"}},
    {"distance_scene_fraction",
     {"field '/scenes/constraints/distance'", "row 1, column 0: scene 1.5", "not an integer"}},
    {"distance_index_fraction", {"field '/scenes/constraints/distance'", "not an integer"}},
    {"distance_index_out_of_range", {"scene 0, field 'constraints.distance[0]'", "outside [0, 3)"}},
    {"distance_nan", {"field '/scenes/constraints/distance'", "non-finite value at row 1"}},
    {"distance_negative", {"scene 0, field 'constraints.distance[0]'", "non-negative"}},
    {"distance_above_limit", {"field '/scenes/constraints/distance'", "limit"}},
    {"collision_two_rows", {"scene 0, field '/scenes/constraints/collision'", "more than one"}},
    {"collision_negative", {"scene 2, field 'constraints.collision'"}},
    {"angle_wrong_columns", {"field '/scenes/constraints/angle'", "5 columns"}},
    {"angle_arm_at_vertex", {"scene 0, field 'constraints.angle[0]'", "vertex"}},
    {"features_external_link", {"/scenes/features", "external link"}},
    {"features_external_storage", {"field '/scenes/features'", "other files"}},
    {"scenes_is_a_dataset", {"field '/scenes'", "expected a group"}},
    {"truncated_half", {}},
    {"truncated_tail", {}},
    {"text", {"not an HDF5 file"}},
    {"empty", {"not an HDF5 file"}},
};

const std::vector<const char*> kLegalH5 = {"legal_good",
                                           "legal_single_scene_single_entity",
                                           "legal_fixed_length_names",
                                           "legal_chunked_compressed",
                                           "legal_features_at_the_limit",
                                           "legal_other_root_groups"};

class HardeningInputs : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        weights_ = dir_->file("w.h5");
        auto gen = run_gasm({"weights", "generate", "--weights", weights_, "--feature-dim",
                             std::to_string(kF), "--hidden-dim", "24", "--max-iterations", "2"});
        ASSERT_EQ(gen.exit_code, 0) << gen.err;
        weights_sha_ = sha256_file(weights_);
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }

    // Runs one bad input: exit 4, the message names the file and each mention, stdout empty,
    // no --output file, the weight file unchanged.
    static void expect_refused(const std::string& input, const std::vector<std::string>& mentions,
                               const std::string& output_ext) {
        const std::string out = dir_->file("out" + output_ext);
        auto r = run_gasm({"run", "--weights", weights_, "--input", input, "--output", out});
        EXPECT_EQ(r.exit_code, 4) << r.err;
        EXPECT_NE(r.err.find(input), std::string::npos) << r.err;
        for (const auto& m : mentions)
            EXPECT_NE(r.err.find(m), std::string::npos) << "'" << m << "' in " << r.err;
        EXPECT_EQ(r.out, "");
        EXPECT_FALSE(fs::exists(out)) << "nothing may be written for a refused input";
        EXPECT_EQ(sha256_file(weights_), weights_sha_);
    }

    static TempDir* dir_;
    static std::string weights_, weights_sha_;
};

TempDir* HardeningInputs::dir_ = nullptr;
std::string HardeningInputs::weights_;
std::string HardeningInputs::weights_sha_;

TEST_F(HardeningInputs, BadJsonScenesAreRefusedNamingFileSceneAndField) {
    for (size_t i = 0; i < kJsonCases.size(); ++i) {
        const JsonCase& c = kJsonCases[i];
        SCOPED_TRACE(c.name);
        const std::string f = dir_->file(std::string(c.name) + ".json");
        std::ofstream(f, std::ios::binary) << c.text();
        expect_refused(f, c.mentions, i % 2 ? ".json" : ".h5");  // both output kinds
    }
    // A folder named like a scene file.
    fs::create_directory(dir_->file("folder.json"));
    expect_refused(dir_->file("folder.json"), {"not a regular file"}, ".json");
    std::cout << "[ cases    ] " << kJsonCases.size() + 1 << " bad JSON inputs\n";
}

TEST_F(HardeningInputs, DegenerateLegalJsonScenesGiveFiniteResults) {
    for (const auto& [name, make] : kLegalJson) {
        SCOPED_TRACE(name);
        const std::string f = dir_->file(std::string(name) + ".json");
        std::ofstream(f) << make().dump();
        for (const char* curvature : {"gaussian", "mean", "ollivier_ricci"}) {
            auto r =
                run_gasm({"run", "--weights", weights_, "--input", f, "--curvature", curvature});
            ASSERT_EQ(r.exit_code, 0) << curvature << ": " << r.err;
            EXPECT_TRUE(all_finite(r.out)) << curvature;
        }
    }
    std::cout << "[ cases    ] " << kLegalJson.size() << " legal scenes x 3 curvatures\n";
}

class HardeningInputsH5 : public HardeningInputs {
  protected:
    static void SetUpTestSuite() {
        HardeningInputs::SetUpTestSuite();
        auto probe = run_shell("/usr/bin/python3 -c 'import h5py, numpy'");
        if (probe.exit_code != 0) {
            skip_ = "Debian's /usr/bin/python3 with h5py and numpy is needed: " + probe.err;
            return;
        }
        fs::create_directory(dir_->file("h5"));
        std::ofstream(dir_->file("build_h5.py")) << kH5Builder;
        auto built =
            run_shell("/usr/bin/python3 " + dir_->file("build_h5.py") + " " + dir_->file("h5"));
        ASSERT_EQ(built.exit_code, 0) << built.err;
    }
    void SetUp() override {
        if (!skip_.empty()) GTEST_SKIP() << skip_;
    }
    static std::string skip_;
};

std::string HardeningInputsH5::skip_;

TEST_F(HardeningInputsH5, BadHdf5BatchesAreRefusedNamingFileSceneAndField) {
    for (size_t i = 0; i < kH5Cases.size(); ++i) {
        const H5Case& c = kH5Cases[i];
        SCOPED_TRACE(c.name);
        const std::string f = dir_->file("h5/" + std::string(c.name) + ".h5");
        ASSERT_TRUE(fs::exists(f)) << "the builder did not make " << f;
        const std::string before = sha256_file(f);
        expect_refused(f, c.mentions, i % 2 ? ".json" : ".h5");
        EXPECT_EQ(sha256_file(f), before);
    }
    std::cout << "[ cases    ] " << kH5Cases.size() << " bad HDF5 inputs\n";
}

TEST_F(HardeningInputsH5, LegalHdf5BatchesGiveFiniteResults) {
    for (const char* name : kLegalH5) {
        SCOPED_TRACE(name);
        const std::string f = dir_->file("h5/" + std::string(name) + ".h5");
        auto r = run_gasm({"run", "--weights", weights_, "--input", f});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(all_finite(r.out));
    }
    // Fixed-length names that fill their field keep their last character.
    auto r = run_gasm(
        {"run", "--weights", weights_, "--input", dir_->file("h5/legal_fixed_length_names.h5")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["scenes"][0]["entities"][2]["name"], "gamma");
    EXPECT_EQ(j["scenes"][2]["entities"][1]["name"], "zeta");
    EXPECT_EQ(j["scenes"].size(), 3u);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

// A batch file the HDF5 fuzz target found: HDF5 1.10.8 crashes (SIGSEGV) reading its names from
// a damaged global heap. io/'s crash guard turns that into exit 4 with the file's name.
// A weight file whose damaged dense link storage made HDF5 1.10.8 free memory it did not own
// when its names were read one index at a time (found by scripts/fuzz.sh): the walk reads each
// group's links in one iteration now, and the file is refused as damaged, under ASan too.
TEST_F(HardeningInputs, WeightFileWithDamagedDenseLinksIsRefused) {
    const std::string f = dir_->file("dense_links.h5");
    fs::copy_file(std::string(GASM_SOURCE_DIR) +
                      "/tests/fuzz/regressions/weights_hdf5_dense_links_invalid_free.h5",
                  f);
    const std::string before = sha256_file(f);
    auto r = run_gasm({"weights", "verify", "--weights", f});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("weight file " + f + ": "), std::string::npos) << r.err;
    EXPECT_EQ(sha256_file(f), before);
}

TEST_F(HardeningInputs, FileThatCrashesHdf5IsStillRefusedByName) {
    if (kAddressSanitizer)
        GTEST_SKIP() << "AddressSanitizer reports HDF5's memory error itself before any crash";
    const std::string f = dir_->file("crashes_hdf5.h5"), w = dir_->file("w4.h5");
    fs::copy_file(
        std::string(GASM_SOURCE_DIR) + "/tests/fuzz/regressions/scene_h5_hdf5_global_heap_crash.h5",
        f);
    // The file's features are 4 wide: weights of that width let the reader reach the names.
    ASSERT_EQ(run_gasm({"weights", "generate", "--weights", w, "--feature-dim", "4", "--hidden-dim",
                        "4", "--max-iterations", "1"})
                  .exit_code,
              0);
    const std::string before = sha256_file(w);
    auto r = run_gasm({"run", "--weights", w, "--input", f, "--output", dir_->file("o.json")});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find(f + ": HDF5 crashed while reading it"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(dir_->file("o.json")));
    EXPECT_EQ(sha256_file(w), before);
}

// An .npz the npz fuzz target found: a member's local-header offset near 2^32 wrapped the bounds
// check (32-bit sum) and the reader jumped 4 GiB past the archive (SIGSEGV). Now refused by name.
TEST_F(HardeningInputs, NpzWithAWrappingMemberOffsetIsRefused) {
    const std::string npz =
        std::string(GASM_SOURCE_DIR) + "/tests/fuzz/regressions/npz_local_header_offset_wraps.npz";
    const std::string w = dir_->file("imported.h5");
    auto r = run_gasm({"weights", "import", "--from", npz, "--weights", w});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find(npz + ": "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("damaged"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(w));
}

// Archives for `weights import`, built by Python's zipfile from an export of the suite's
// weights: members that claim hundreds of megabytes (refused from their headers, before they
// are unpacked: six such members once took 3.8 GB), headers numpy writes without spaces, two
// members for one array. argv: clean.npz, output folder.
constexpr const char* kNpzBuilder = R"PY(
import os, sys, zipfile, zlib
clean, out = sys.argv[1:3]
src = zipfile.ZipFile(clean)
members = {n: src.read(n) for n in src.namelist()}

def npy(header, data=b""):
    h = header.encode()
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + data

def payload(name):  # the values of a clean member
    b = members[name]
    return b[10 + int.from_bytes(b[8:10], "little"):]

def write(name, extra=(), replace=None, drop=()):
    with zipfile.ZipFile(os.path.join(out, name + ".npz"), "w") as z:
        for n, b in members.items():
            if n in drop:
                continue
            z.writestr(n, (replace or {}).get(n, b))
        for n, b in extra:
            z.writestr(n, b)

def bomb(name, header, size):  # `size` zero bytes after the header, deflated as they stream
    with zipfile.ZipFile(os.path.join(out, name + ".npz"), "a") as z:
        info = zipfile.ZipInfo(header[0])
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w") as f:
            f.write(npy(header[1]))
            block = bytes(1 << 20)
            for _ in range(size >> 20):
                f.write(block)

Q = "se3_attention.q_proj.weight.npy"
q_shape = "(24, %d)" % (len(payload(Q)) // 4 // 24)
write("unknown_member_bomb")
bomb("unknown_member_bomb", ("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (8192, 8192), }"), 1 << 28)
write("known_member_bomb", drop=(Q,))
bomb("known_member_bomb", (Q, "{'descr': '<f4', 'fortran_order': False, 'shape': (8192, 8192), }"), 1 << 28)
write("fortran_order_without_spaces", replace={Q: npy("{'descr':'<f4','fortran_order':True,'shape':%s}" % q_shape, payload(Q))})
write("legal_header_without_spaces", replace={Q: npy("{'descr':'<f4','fortran_order':False,'shape':%s}" % q_shape, payload(Q))})
write("two_members_for_one_array", extra=[(Q[:-4], members[Q])])
write("big_endian", replace={Q: npy("{'descr': '>f4', 'fortran_order': False, 'shape': %s, }" % q_shape, payload(Q))})
write("unknown_header_key", replace={Q: npy("{'descr': '<f4', 'fortran_order': False, 'shape': %s, 'x': 1}" % q_shape, payload(Q))})
)PY";

TEST_F(HardeningInputs, NpzArchivesAreCheckedBeforeTheyAreUnpacked) {
    if (run_shell("/usr/bin/python3 -c 'import zipfile'").exit_code != 0)
        GTEST_SKIP() << "Debian's /usr/bin/python3 is needed to build the archives";
    const std::string clean = dir_->file("clean.npz"), folder = dir_->file("npz");
    ASSERT_EQ(run_gasm({"weights", "export", "--weights", weights_, "--to", clean}).exit_code, 0);
    fs::create_directories(folder);
    std::ofstream(dir_->file("build_npz.py")) << kNpzBuilder;
    auto built =
        run_shell("/usr/bin/python3 " + dir_->file("build_npz.py") + " " + clean + " " + folder);
    ASSERT_EQ(built.exit_code, 0) << built.err;
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"unknown_member_bomb", "unexpected array extra"},
        {"known_member_bomb", "has shape (24), expected (8192)"},
        {"fortran_order_without_spaces", "Fortran-ordered"},
        {"two_members_for_one_array", "a second member for the array"},
        {"big_endian", "little-endian float32 or float64, got '>f4'"},
        {"unknown_header_key", "unknown key 'x'"},
    };
    const std::string w = dir_->file("imported.h5");
    for (const auto& [name, mention] : refused) {
        SCOPED_TRACE(name);
        const std::string npz = folder + "/" + name + ".npz";
        auto r = run_gasm({"weights", "import", "--from", npz, "--weights", w});
        EXPECT_EQ(r.exit_code, 3) << r.err;
        EXPECT_NE(r.err.find(npz + ": "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(mention), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(w));
    }
    // numpy writes headers without spaces too: such an archive imports the same weights.
    auto legal = run_gasm({"weights", "import", "--from",
                           folder + "/legal_header_without_spaces.npz", "--weights", w});
    EXPECT_EQ(legal.exit_code, 0) << legal.err;
    auto original = run_gasm({"weights", "status", "--json", "--weights", weights_});
    auto imported = run_gasm({"weights", "status", "--json", "--weights", w});
    EXPECT_EQ(json::parse(imported.out)["content_sha256"],
              json::parse(original.out)["content_sha256"]);
    // What is not a file is never read: a FIFO would block, /dev/zero fill the memory.
    const std::string fifo = dir_->file("fifo.npz");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    for (const std::string& from : {fifo, folder, std::string("/dev/zero")}) {
        auto r = run_shell("timeout 30 " + std::string(GASM_EXE) + " weights import --from " +
                           from + " --weights " + dir_->file("other.h5"));
        EXPECT_EQ(r.exit_code, 3) << from << ": " << r.err;
        EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
    }
}

TEST_F(HardeningInputs, TextMeasurementsOverTheInputLimitAreRefused) {
    for (const std::string text :
         {"The robot is 99999999999999999999999999999999999999 km left of the table",
          "The robot is 100000000000000000000000000000000 m left of the table",
          "The robot is 3e40 m left of the table", "The robot is 1e308 km left of the table"}) {
        auto r = run_gasm(
            {"run", "--weights", weights_, "--text", text, "--output", dir_->file("o.json")});
        EXPECT_EQ(r.exit_code, 4) << text << ": " << r.err;
        EXPECT_NE(r.err.find("constraints.distance[0]"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("input limit of 1e30"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(dir_->file("o.json")));
    }
}

TEST_F(HardeningInputs, TextInputsWithoutEntitiesAreRefused) {
    for (const std::string text : {"   ", "and or but", "\xff\xfe", "42 17"}) {
        auto r = run_gasm({"run", "--weights", weights_, "--text", text});
        EXPECT_EQ(r.exit_code, 4) << "'" << text << "': " << r.err;
        EXPECT_EQ(r.out, "");
    }
    const std::string lines = dir_->file("lines.txt");
    std::ofstream(lines) << "The robot is left of the table.\n\nnothing here at all\n";
    auto r = run_gasm({"run", "--weights", weights_, "--text-file", lines});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find(lines), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace gasm
