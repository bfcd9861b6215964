// SPDX-License-Identifier: MIT
// Tests of the text front end (host/text/README.md states the rules checked here): a table of
// English and German sentences with the entities, types, relation blocks and constraints each
// must give; the features' layout and determinism; the refusals; Unicode; large and hostile
// inputs; and the file reader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "host/errors.hpp"
#include "host/philox.hpp"
#include "host/text/text_frontend.hpp"
#include "host/text/utf8.hpp"

namespace {

using gasm::Scene;
using gasm::text::scene_from_text;
using gasm::text::scenes_from_text_file;
using gasm::text::TextOptions;

constexpr int kRelationDim = 32;
constexpr double kDistanceTol = 1e-9;  // metres; values are exact products of table factors
constexpr double kAngleTol = 1e-9;     // radians

enum Block { S = 0, T = 1, P = 2, O = 3 };  // spatial, temporal, physical, other

struct Rel {
    int a, b;  // a < b; both directions are checked
    Block block;
};

struct Dist {
    int i, j;
    double metres;
};

struct Ang {
    int i, j, k;  // vertex j
    double degrees;
};

struct Case {
    const char* text;
    std::vector<std::string> names;
    std::vector<std::string> types;
    std::vector<Rel> relations;
    std::vector<Dist> distances;
    std::vector<Ang> angles;
};

// Each sentence is written for one rule of README.md; together they cover every rule of the
// entities, relations, measurements and angles sections in both languages.
const std::vector<Case> kCases = {
    // English
    {"The robot pushes the box.", {"robot", "box"}, {"robotic", "physical"}, {{0, 1, P}}, {}, {}},
    {"The red cube is left of the blue cube.",
     {"red cube", "blue cube"},
     {"physical", "physical"},
     {{0, 1, S}},
     {},
     {}},
    {"The lamp stands on the desk, 30 cm left of the monitor.",
     {"lamp", "desk", "monitor"},
     {"electronic", "furniture", "electronic"},
     {{0, 1, S}, {1, 2, S}},
     {{0, 2, 0.3}},
     {}},
    {"The robot is 1e-5 m from the box and 2.5E3 mm from the shelf.",
     {"robot", "box", "shelf"},
     {"robotic", "physical", "furniture"},
     {{0, 1, S}, {1, 2, S}},
     {{0, 1, 1e-5}, {0, 2, 2.5}},
     {}},
    {"The robot is 1x10^3 m from the box.",  // an exponent is not the measurement
     {"robot", "box"},
     {"robotic", "physical"},
     {{0, 1, S}},
     {},
     {}},
    {"The robot is 2 m from the box and 3 m from the shelf.",
     {"robot", "box", "shelf"},
     {"robotic", "physical", "furniture"},
     {{0, 1, S}, {1, 2, S}},
     {{0, 1, 2.0}, {0, 2, 3.0}},
     {}},
    {"The box is 2 m from the robot, which is 1 m from the wall.",
     {"box", "robot", "wall"},
     {"physical", "robotic", "spatial"},
     {{0, 1, S}, {1, 2, S}},
     {{0, 1, 2.0}, {1, 2, 1.0}},
     {}},
    {"The moon orbits the earth.",
     {"moon", "earth"},
     {"scientific", "scientific"},
     {{0, 1, P}},
     {},
     {}},
    {"The lamp is between the sofa and the armchair.",
     {"lamp", "sofa", "armchair"},
     {"electronic", "furniture", "furniture"},
     {{0, 1, S}, {0, 2, S}},
     {},
     {}},
    {"The arm forms a 90° angle between the base and the gripper.",
     {"arm", "base", "gripper"},
     {"robotic", "physical", "robotic"},
     {{0, 1, S}, {0, 2, S}},
     {},
     {{1, 0, 2, 90.0}}},
    {"The base, the arm and the gripper form a 45 degree angle.",
     {"base", "arm", "gripper"},
     {"physical", "robotic", "robotic"},
     {},
     {},
     {{0, 1, 2, 45.0}}},
    {"The lamp, the desk and the chair form a 45 degree angle at the desk.",
     {"lamp", "desk", "chair"},
     {"electronic", "furniture", "furniture"},
     {{1, 2, S}},
     {},
     {{0, 1, 2, 45.0}}},
    {"The ramp is inclined at 0.5 rad between the floor and the wall.",
     {"ramp", "floor", "wall"},
     {"unknown", "spatial", "spatial"},
     {{0, 1, S}, {0, 2, S}},
     {},
     {{1, 0, 2, 0.5 * 180.0 / std::numbers::pi}}},
    {"The laser points at the mirror at 45°.",
     {"laser", "mirror"},
     {"scientific", "furniture"},
     {{0, 1, O}},
     {},
     {}},
    {"The box and the ball are 2 m apart.",
     {"box", "ball"},
     {"physical", "physical"},
     {},
     {{0, 1, 2.0}},
     {}},
    {"A 2 m tall robot stands next to the box.",
     {"robot", "box"},
     {"robotic", "physical"},
     {{0, 1, S}},
     {},
     {}},
    {"The shiny gizmo sits under the table.",
     {"gizmo", "table"},
     {"unknown", "furniture"},
     {{0, 1, S}},
     {},
     {}},
    {"The quick brown fox jumps over the lazy dog.",
     {"brown fox", "dog"},
     {"unknown", "unknown"},
     {{0, 1, S}},
     {},
     {}},
    {"The robot moves the box after the meeting.",
     {"robot", "box", "meeting"},
     {"robotic", "physical", "temporal"},
     {{0, 1, P}, {1, 2, T}},
     {},
     {}},
    {"Place box 1 on box 2.",
     {"box 1", "box 2"},
     {"physical", "physical"},
     {{0, 1, S}, {0, 1, P}},
     {},
     {}},
    {"The TV is 5'10\" from the couch.",
     {"tv", "couch"},
     {"electronic", "furniture"},
     {{0, 1, S}},
     {{0, 1, 5 * 0.3048 + 10 * 0.0254}},
     {}},
    {"The satellite orbits the planet at a distance of 400 km.",
     {"satellite", "planet"},
     {"scientific", "scientific"},
     {{0, 1, P}},
     {{0, 1, 400000.0}},
     {}},
    {"The cup is on the table. The plate is next to the cup.",
     {"cup", "table", "plate"},
     {"physical", "furniture", "physical"},
     {{0, 1, S}, {0, 2, S}},
     {},
     {}},
    {"The robot with the gripper lifts the crate onto the pallet.",
     {"robot", "gripper", "crate", "pallet"},
     {"robotic", "robotic", "physical", "industrial"},
     {{0, 1, O}, {0, 2, P}, {2, 3, S}},
     {},
     {}},
    {"The drone hovers 1.5 m above the conveyor belt.",
     {"drone", "conveyor belt"},
     {"robotic", "industrial"},
     {{0, 1, S}},
     {{0, 1, 1.5}},
     {}},
    {"The camera is connected to the computer.",
     {"camera", "computer"},
     {"electronic", "electronic"},
     {{0, 1, O}},
     {},
     {}},
    {"The sensor is 250 mm behind the lens.",
     {"sensor", "lens"},
     {"electronic", "scientific"},
     {{0, 1, S}},
     {{0, 1, 0.25}},
     {}},
    {"The box is 1,000 mm from the wall.",
     {"box", "wall"},
     {"physical", "spatial"},
     {{0, 1, S}},
     {{0, 1, 1.0}},
     {}},
    {"The ball is under the table, which is next to the window.",
     {"ball", "table", "window"},
     {"physical", "furniture", "spatial"},
     {{0, 1, S}, {1, 2, S}},
     {},
     {}},
    {"The hydraulic press pushes the sheet.",
     {"press", "sheet"},
     {"industrial", "unknown"},
     {{0, 1, P}},
     {},
     {}},
    {"The cart collides with the wall.",
     {"cart", "wall"},
     {"physical", "spatial"},
     {{0, 1, P}},
     {},
     {}},  // "collides with" wins over "with"
    {"The drone lands before the robot starts.",
     {"drone", "robot"},
     {"robotic", "robotic"},
     {{0, 1, T}},
     {},
     {}},
    {"The truck is parked 5 m behind the car.",
     {"truck", "car"},
     {"physical", "physical"},
     {{0, 1, S}},
     {{0, 1, 5.0}},
     {}},
    {"The shelf is 6 feet from the door.",
     {"shelf", "door"},
     {"furniture", "spatial"},
     {{0, 1, S}},
     {{0, 1, 6 * 0.3048}},
     {}},
    // German
    {"Der Greifer ist Teil des Roboters.",
     {"greifer", "roboters"},
     {"robotic", "robotic"},
     {{0, 1, O}},
     {},
     {}},  // "Teil des" wins over "des"/"von"
    {"Während der Pause steht der Roboter neben dem Tisch.",
     {"pause", "roboter", "tisch"},
     {"temporal", "robotic", "furniture"},
     {{0, 1, T}, {1, 2, S}},
     {},
     {}},
    {"Das Auto steht 3 m vor der Garage.",
     {"auto", "garage"},
     {"physical", "spatial"},
     {{0, 1, S}},
     {{0, 1, 3.0}},
     {}},
    {"Der Bildschirm ist 20 Zoll vom Fenster entfernt.",
     {"bildschirm", "fenster"},
     {"electronic", "spatial"},
     {{0, 1, S}},
     {{0, 1, 20 * 0.0254}},
     {}},
    {"Die Lampe steht auf dem Schreibtisch, 30 cm links vom Monitor.",
     {"lampe", "schreibtisch", "monitor"},
     {"electronic", "furniture", "electronic"},
     {{0, 1, S}, {1, 2, S}},
     {{0, 2, 0.3}},
     {}},
    {"Der Roboter ist 1,5 m vom Regal entfernt.",
     {"roboter", "regal"},
     {"robotic", "furniture"},
     {{0, 1, S}},
     {{0, 1, 1.5}},
     {}},
    {"Der Roboter ist 2,5e-3 m vom Regal entfernt.",
     {"roboter", "regal"},
     {"robotic", "furniture"},
     {{0, 1, S}},
     {{0, 1, 2.5e-3}},
     {}},
    {"Der rote Würfel liegt links vom blauen Würfel.",
     {"rote würfel", "blauen würfel"},
     {"physical", "physical"},
     {{0, 1, S}},
     {},
     {}},
    {"Über dem Tisch hängt eine Lampe.",
     {"tisch", "lampe"},
     {"furniture", "electronic"},
     {{0, 1, S}},
     {},
     {}},
    {"ÜBER DEM TISCH HÄNGT EINE LAMPE.",
     {"tisch", "lampe"},
     {"furniture", "electronic"},
     {{0, 1, S}},
     {},
     {}},
    {"Zwischen dem Tisch und dem Stuhl steht die Lampe.",
     {"tisch", "stuhl", "lampe"},
     {"furniture", "furniture", "electronic"},
     {{0, 2, S}, {1, 2, S}},
     {},
     {}},
    {"Der Arm bildet einen Winkel von 90 Grad zwischen Basis und Greifer.",
     {"arm", "basis", "greifer"},
     {"robotic", "physical", "robotic"},
     {{0, 1, S}, {0, 2, S}},
     {},
     {{1, 0, 2, 90.0}}},
    {"Nach dem Start bewegt der Roboter die Kiste.",
     {"start", "roboter", "kiste"},
     {"temporal", "robotic", "physical"},
     {{0, 1, T}, {1, 2, P}},
     {},
     {}},
    {"Vor dem Regal steht ein Stuhl.",
     {"regal", "stuhl"},
     {"furniture", "furniture"},
     {{0, 1, S}},
     {},
     {}},
    {"Der Kran hebt den Container auf das Schiff.",
     {"kran", "container", "schiff"},
     {"industrial", "industrial", "physical"},
     {{0, 1, P}, {1, 2, S}},
     {},
     {}},
    {"Die Holzkiste steht neben dem Kühlschrank in der Küche.",
     {"holzkiste", "kühlschrank", "küche"},
     {"physical", "electronic", "spatial"},
     {{0, 1, S}, {1, 2, S}},
     {},
     {}},
    {"Der Laptop liegt zwischen der Tastatur und der Maus.",
     {"laptop", "tastatur", "maus"},
     {"electronic", "electronic", "electronic"},
     {{0, 1, S}, {0, 2, S}},
     {},
     {}},
    {"Die Drohne fliegt 50 m über dem Lagerhaus.",
     {"drohne", "lagerhaus"},
     {"robotic", "spatial"},
     {{0, 1, S}},
     {{0, 1, 50.0}},
     {}},
    {"Der Mond umkreist die Erde.",
     {"mond", "erde"},
     {"scientific", "scientific"},
     {{0, 1, P}},
     {},
     {}},
    {"Die Kamera ist mit dem Roboter verbunden.",
     {"kamera", "roboter"},
     {"electronic", "robotic"},
     {{0, 1, O}},
     {},
     {}},
    {"Roboter 1 schiebt Kiste A auf Regal 2.",
     {"roboter 1", "kiste a", "regal 2"},
     {"robotic", "physical", "furniture"},
     {{0, 1, P}, {1, 2, S}},
     {},
     {}},
    {"Der Fußball liegt unter dem Stuhl, 0,5 m vor der Wand.",
     {"fußball", "stuhl", "wand"},
     {"physical", "furniture", "spatial"},
     {{0, 1, S}, {1, 2, S}},
     {{0, 2, 0.5}},
     {}},
    {"Die Kiste und der Ball sind 2 m voneinander entfernt.",
     {"kiste", "ball"},
     {"physical", "physical"},
     {},
     {{0, 1, 2.0}},
     {}},
    {"Die Kiste ist 1.000 mm von der Wand entfernt.",
     {"kiste", "wand"},
     {"physical", "spatial"},
     {{0, 1, S}},
     {{0, 1, 1.0}},
     {}},
    {"Der Tisch ist 80 cm hoch.", {"tisch"}, {"furniture"}, {}, {}, {}},
    {"Das Glas steht auf dem Tisch. Der Teller steht neben dem Glas.",
     {"glas", "tisch", "teller"},
     {"physical", "furniture", "physical"},
     {{0, 1, S}, {0, 2, S}},
     {},
     {}},
    {"Der Greifer dreht die Flasche um 30° gegenüber dem Tisch.",
     {"greifer", "flasche", "tisch"},
     {"robotic", "physical", "furniture"},
     {{0, 1, P}, {1, 2, S}},
     {},
     {{0, 1, 2, 30.0}}},
};

TextOptions small_options() {
    TextOptions o;
    o.feature_dim = 12;
    return o;
}

float rel(const Scene& s, int i, int j, int d) {
    size_t n = s.names.size();
    return s.relations[(static_cast<size_t>(i) * n + j) * kRelationDim + d];
}

// Expected nonzero relation blocks as (min, max, block) triples.
std::set<std::tuple<int, int, int>> expected_blocks(const Case& c) {
    std::set<std::tuple<int, int, int>> out;
    for (const Rel& r : c.relations) out.emplace(std::min(r.a, r.b), std::max(r.a, r.b), r.block);
    return out;
}

void check_relations(const Case& c, const Scene& s) {
    int n = static_cast<int>(s.names.size());
    ASSERT_EQ(s.relation_dim, kRelationDim);
    ASSERT_EQ(s.relations.size(), static_cast<size_t>(n * n * kRelationDim));
    auto expected = expected_blocks(c);
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            for (int b = 0; b < 4; ++b) {
                for (int d = 8 * b; d < 8 * b + 8; ++d) {
                    float v = rel(s, i, j, d);
                    if (i == j) {
                        EXPECT_EQ(v, 0.5f) << "R[" << i << "," << i << "," << d << "]";
                        continue;
                    }
                    bool want = expected.count({std::min(i, j), std::max(i, j), b}) > 0;
                    EXPECT_EQ(v, want ? 1.0f : 0.0f)
                        << "R[" << i << "," << j << "," << d << "] (" << s.names[i] << " -> "
                        << s.names[j] << ", block " << b << ")";
                }
            }
        }
    }
}

void check_constraints(const Case& c, const Scene& s) {
    ASSERT_EQ(s.distance.size(), c.distances.size()) << "distance constraints";
    for (size_t k = 0; k < c.distances.size(); ++k) {
        EXPECT_EQ(s.distance[k].i, c.distances[k].i) << "distance " << k;
        EXPECT_EQ(s.distance[k].j, c.distances[k].j) << "distance " << k;
        EXPECT_NEAR(s.distance[k].target, c.distances[k].metres, kDistanceTol) << "distance " << k;
    }
    ASSERT_EQ(s.angle.size(), c.angles.size()) << "angle constraints";
    for (size_t k = 0; k < c.angles.size(); ++k) {
        EXPECT_EQ(s.angle[k].i, c.angles[k].i) << "angle " << k;
        EXPECT_EQ(s.angle[k].j, c.angles[k].j) << "angle " << k;
        EXPECT_EQ(s.angle[k].k, c.angles[k].k) << "angle " << k;
        EXPECT_NEAR(s.angle[k].theta, c.angles[k].degrees * std::numbers::pi / 180.0, kAngleTol)
            << "angle " << k;
    }
}

TEST(TextFrontend, SentenceTable) {
    ASSERT_GE(kCases.size(), 30u);
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.text);
        Scene s = scene_from_text(c.text, small_options(), "--text");
        EXPECT_EQ(s.names, c.names);
        EXPECT_EQ(s.types, c.types);
        if (s.names != c.names) continue;  // indices below would not mean the same entities
        check_relations(c, s);
        check_constraints(c, s);
        EXPECT_EQ(s.label, c.text);
        EXPECT_FALSE(s.custom_edges);
        EXPECT_FALSE(s.collision.has_value());
        EXPECT_EQ(s.features.size(), s.names.size() * 12);
    }
}

TEST(TextFrontend, SameTextAndSeedGiveIdenticalFeatures) {
    TextOptions o;
    const char* text = "The robot arm places the red cube on the shelf next to the lamp.";
    Scene a = scene_from_text(text, o, "--text");
    Scene b = scene_from_text(text, o, "--text");
    ASSERT_EQ(a.features.size(), b.features.size());
    EXPECT_EQ(std::memcmp(a.features.data(), b.features.data(), a.features.size() * 4), 0);
    EXPECT_EQ(a.relations, b.relations);
    o.seed = 43;
    Scene c = scene_from_text(text, o, "--text");
    ASSERT_EQ(c.features.size(), a.features.size());
    EXPECT_NE(std::memcmp(a.features.data(), c.features.data(), a.features.size() * 4), 0);
    EXPECT_EQ(c.relations, a.relations);  // only the noise depends on the seed
}

// Features are exactly value + 0.1 * philox normal, with the block boundaries of README.md.
void check_feature_formula(int64_t F, uint64_t seed) {
    SCOPED_TRACE("F = " + std::to_string(F));
    TextOptions o;
    o.feature_dim = F;
    o.seed = seed;
    Scene s = scene_from_text("Der Roboter schiebt die Kiste neben die Wand.", o, "--text");
    ASSERT_EQ(s.names, (std::vector<std::string>{"roboter", "kiste", "wand"}));
    const float type_value[3] = {0.8f, 0.6f, 0.4f};  // robotic, physical, spatial
    size_t n = 3, f = static_cast<size_t>(F), block = f / 3;
    std::vector<float> z = gasm::philox::normals(seed, 0, n * f);
    ASSERT_EQ(s.features.size(), n * f);
    for (size_t i = 0; i < n; ++i) {
        float values[3] = {type_value[i], static_cast<float>(static_cast<double>(i) / 3.0),
                           static_cast<float>(s.names[i].size()) / 20.0f};
        for (size_t c = 0; c < f; ++c) {
            size_t b = block == 0 ? 2 : std::min<size_t>(c / block, 2);
            float want = values[b] + 0.1f * z[i * f + c];
            ASSERT_EQ(s.features[i * f + c], want) << "entity " << i << " column " << c;
        }
    }
}

TEST(TextFrontend, FeatureFormulaAndBlockRemainder) {
    check_feature_formula(768, 42);
    check_feature_formula(770, 7);  // blocks 256, 256, 258
    check_feature_formula(1, 42);   // only the last block
    check_feature_formula(2, 42);
    check_feature_formula(5, 42);  // 1, 1, 3
}

TEST(TextFrontend, FeatureBlockMeansNearTheirValues) {
    TextOptions o;  // F = 768: 256 columns per block, noise sd 0.1 -> mean sd 0.00625
    Scene s = scene_from_text("The robot is on the floor near the box and the idea.", o, "--text");
    ASSERT_EQ(s.names, (std::vector<std::string>{"robot", "floor", "box", "idea"}));
    const double type_value[4] = {0.8, 0.4, 0.6, 0.0};
    const double kMeanTol = 0.03;  // about five standard deviations of a block mean
    size_t n = s.names.size(), F = 768;
    for (size_t i = 0; i < n; ++i) {
        double want[3] = {type_value[i], static_cast<double>(i) / static_cast<double>(n),
                          static_cast<double>(gasm::text::utf8::length(s.names[i])) / 20.0};
        for (size_t b = 0; b < 3; ++b) {
            double sum = 0;
            for (size_t c = b * 256; c < (b + 1) * 256; ++c) sum += s.features[i * F + c];
            EXPECT_NEAR(sum / 256, want[b], kMeanTol) << "entity " << i << " block " << b;
        }
    }
}

TEST(TextFrontend, NameLengthCountsCodePoints) {
    TextOptions o;
    o.feature_dim = 3;
    o.seed = 1;
    Scene s = scene_from_text("Der Kühlschrank steht in der Küche.", o, "--text");
    ASSERT_EQ(s.names, (std::vector<std::string>{"kühlschrank", "küche"}));
    std::vector<float> z = gasm::philox::normals(1, 0, 6);
    EXPECT_EQ(s.features[2], 11.0f / 20.0f + 0.1f * z[2]);  // 11 letters, 12 bytes
    EXPECT_EQ(s.features[5], 5.0f / 20.0f + 0.1f * z[5]);
}

TEST(TextFrontend, SelfRelationsAreHalf) {
    Scene s = scene_from_text("A lonely cube.", small_options(), "--text");
    ASSERT_EQ(s.names, (std::vector<std::string>{"cube"}));
    ASSERT_EQ(s.relations.size(), static_cast<size_t>(kRelationDim));
    for (float v : s.relations) EXPECT_EQ(v, 0.5f);
}

template <class Fn>
std::string input_error(Fn fn) {
    try {
        fn();
    } catch (const gasm::InputError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no InputError";
    return {};
}

TEST(TextFrontend, RefusesTextWithoutEntity) {
    for (const char* text : {"", "   ", "hello world", "is it? yes.", "2 m", "und dann"}) {
        std::string msg = input_error([&] { scene_from_text(text, {}, "--text"); });
        EXPECT_NE(msg.find("no entity found in --text"), std::string::npos) << msg;
    }
}

TEST(TextFrontend, RefusesTooLongTextNamingTheLimit) {
    TextOptions o;
    o.max_bytes = 100;
    std::string text(101, 'x');
    std::string msg = input_error([&] { scene_from_text(text, o, "sentences.txt, line 3"); });
    EXPECT_NE(msg.find("sentences.txt, line 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("limit of 100 bytes"), std::string::npos) << msg;
    EXPECT_NO_THROW(scene_from_text("The box is red." + std::string(85, ' '), o, "--text"));
}

TEST(TextFrontend, RefusesInvalidUtf8) {
    const char* bad[] = {
        "The box \x80 is red.",      // stray continuation byte
        "The box \xC3",              // truncated sequence
        "The \xC0\xAF box",          // overlong '/'
        "The \xED\xA0\x80 box",      // UTF-16 surrogate
        "The \xF4\x90\x80\x80 box",  // above U+10FFFF
        "The \xFF box",              // never valid
        "Die K\xFCste",              // Latin-1, not UTF-8
    };
    for (const char* text : bad) {
        std::string msg = input_error([&] { scene_from_text(text, {}, "--text"); });
        EXPECT_NE(msg.find("--text: invalid UTF-8 at byte"), std::string::npos) << msg;
    }
}

TEST(TextFrontend, RefusesImpossibleOptions) {
    TextOptions o;
    o.feature_dim = 0;
    EXPECT_THROW(scene_from_text("the box", o, "--text"), gasm::UsageError);
    o = {};
    o.max_entities = 0;
    EXPECT_THROW(scene_from_text("the box", o, "--text"), gasm::UsageError);
}

TEST(TextFrontend, UmlautsAndSharpS) {
    Scene s = scene_from_text("Die STRASSE und die Straße führen über die Brücke zum Ölfass.",
                              small_options(), "--text");
    EXPECT_EQ(s.names, (std::vector<std::string>{"strasse", "straße", "brücke", "ölfass"}));
    Scene caps = scene_from_text("Der Roboter steht neben dem KÜHLSCHRANK.", small_options(), "x");
    EXPECT_EQ(caps.names, (std::vector<std::string>{"roboter", "kühlschrank"}));
}

TEST(TextFrontend, OtherScriptsKeepTheirBytes) {
    Scene cjk = scene_from_text("The 机器人 pushes the box.", small_options(), "--text");
    EXPECT_EQ(cjk.names, (std::vector<std::string>{"机器人", "box"}));
    Scene emoji = scene_from_text("The 🤖 sits on the table.", small_options(), "--text");
    EXPECT_EQ(emoji.names, (std::vector<std::string>{"🤖", "table"}));
    Scene cyr = scene_from_text("The Робот pushes the box.", small_options(), "--text");
    EXPECT_EQ(cyr.names, (std::vector<std::string>{"робот", "box"}));  // folded, not garbled
    Scene mixed = scene_from_text("Der Roboter 机器人 steht neben dem Tisch. Привет мир! 你好。",
                                  small_options(), "--text");
    EXPECT_EQ(mixed.names.front(), "roboter");
    EXPECT_NO_THROW(scene_from_text("\xD8\xA7\xD9\x84 box \xE2\x80\x8F on the \xCC\x81 table",
                                    small_options(), "--text"));
    for (const std::string& name : mixed.names) {
        EXPECT_EQ(gasm::text::utf8::first_invalid(name), gasm::text::utf8::npos) << name;
    }
}

TEST(TextFrontend, MaxEntitiesCapsAndDropsFurtherOnes) {
    TextOptions o = small_options();
    o.max_entities = 2;
    Scene s = scene_from_text("The robot pushes the box onto the shelf.", o, "--text");
    EXPECT_EQ(s.names, (std::vector<std::string>{"robot", "box"}));
    EXPECT_EQ(s.relations.size(), 2u * 2u * kRelationDim);
    EXPECT_EQ(rel(s, 0, 1, 16), 1.0f);  // pushes
    // "onto" reaches the shelf, which did not fit: no relation to anyone else instead.
    EXPECT_EQ(rel(s, 0, 1, 0), 0.0f);
    TextOptions many;
    std::string text;
    for (const char* w : {"robot", "box", "ball", "cube", "lamp", "desk", "chair", "table", "cup",
                          "plate", "bowl", "mug", "door", "wall", "floor", "sofa", "bed"}) {
        text += std::string("the ") + w + ", ";
    }
    EXPECT_EQ(scene_from_text(text, many, "--text").names.size(), 15u);
}

TEST(TextFrontend, DeduplicatesInflectedMentions) {
    Scene s =
        scene_from_text("Der Tisch steht hier. Die Lampe des Tisches leuchtet auf den Tischen.",
                        small_options(), "--text");
    EXPECT_EQ(s.names, (std::vector<std::string>{"tisch", "lampe"}));
    Scene e = scene_from_text("The boxes are on the shelf. The box is red.", small_options(), "x");
    EXPECT_EQ(e.names, (std::vector<std::string>{"boxes", "shelf"}));
}

TEST(TextFrontend, LargeInputIsRefusedOrFast) {
    std::string unit = "The red robot is 2 m left of the blue box, 30 cm from the shelf. ";
    std::string text;
    while (text.size() + unit.size() <= (4u << 20)) text += unit;
    std::string msg = input_error([&] { scene_from_text(text, {}, "--text"); });
    EXPECT_NE(msg.find("limit of 1048576 bytes"), std::string::npos) << msg;

    TextOptions o;
    o.max_bytes = 8u << 20;
    const double kSeconds = 30.0;  // linear work: about a second optimised, more in debug
    auto start = std::chrono::steady_clock::now();
    Scene s = scene_from_text(text, o, "--text");
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(took, kSeconds);
    EXPECT_EQ(s.names, (std::vector<std::string>{"red robot", "blue box", "shelf"}));

    // Hostile shapes: one huge word, only digits, only articles, only punctuation.
    for (std::string odd :
         {std::string(4u << 20, 'a'), std::string(4u << 20, '7'), std::string(4u << 20, '.')}) {
        start = std::chrono::steady_clock::now();
        EXPECT_THROW(scene_from_text(odd, o, "--text"), gasm::InputError);
        took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        EXPECT_LT(took, kSeconds);
    }
}

// Random word salads from a pool rich in keywords, numbers, units and odd characters must
// never crash and must always give a well-formed scene or an InputError.
TEST(TextFrontend, RandomTextKeepsInvariants) {
    const std::vector<std::string> pool = {
        "the",  "a",      "der",    "die",     "dem",   "box",   "Kiste", "robot",   "Roboter",
        "lamp", "on",     "auf",    "left",    "of",    "links", "vom",   "between", "zwischen",
        "and",  "und",    "2",      "1,5",     "1.000", "m",     "cm",    "in",      "ft",
        "'",    "\"",     "°",      "Grad",    "rad",   "-",     ",",     ".",       "apart",
        "at",   "angle",  "pushes", "schiebt", "vor",   "nach",  "red",   "rote",    "A",
        "3",    "机器人", "Ärger",  "ß",       "(",     ")",     "/",     "km",      "90",
        "200",  "about",  "ca.",    "from",    "which", "is",    "🤖"};
    std::mt19937 rng(1234);
    TextOptions o = small_options();
    o.max_entities = 6;
    for (int round = 0; round < 2000; ++round) {
        std::string text;
        int words = 1 + static_cast<int>(rng() % 30);
        for (int w = 0; w < words; ++w) {
            text += pool[rng() % pool.size()];
            if (rng() % 4 != 0) text += ' ';
        }
        Scene s;
        try {
            s = scene_from_text(text, o, "--text");
        } catch (const gasm::InputError&) {
            continue;
        }
        SCOPED_TRACE(text);
        int64_t n = s.size();
        ASSERT_GE(n, 1);
        ASSERT_LE(n, 6);
        ASSERT_EQ(s.types.size(), static_cast<size_t>(n));
        ASSERT_EQ(s.features.size(), static_cast<size_t>(n * 12));
        ASSERT_EQ(s.relations.size(), static_cast<size_t>(n * n * kRelationDim));
        for (float v : s.features) ASSERT_TRUE(std::isfinite(v));
        for (const auto& d : s.distance) {
            ASSERT_TRUE(d.i >= 0 && d.i < n && d.j >= 0 && d.j < n && d.i != d.j);
            ASSERT_TRUE(std::isfinite(d.target) && d.target >= 0);
        }
        for (const auto& a : s.angle) {
            ASSERT_TRUE(a.i >= 0 && a.i < n && a.j >= 0 && a.j < n && a.k >= 0 && a.k < n);
            ASSERT_TRUE(a.i != a.j && a.j != a.k && a.i != a.k);
            ASSERT_TRUE(a.theta >= 0 && a.theta <= std::numbers::pi);
        }
    }
}

class TempFile {
  public:
    explicit TempFile(const std::string& content) {
        static int counter = 0;
        path_ = (std::filesystem::temp_directory_path() /
                 ("gasm_text_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
                  ".txt"))
                    .string();
        std::ofstream(path_, std::ios::binary) << content;
    }
    ~TempFile() { std::remove(path_.c_str()); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

TEST(TextFrontendFile, OneScenePerNonEmptyLine) {
    TempFile f("\xEF\xBB\xBFThe robot pushes the box.\r\n\r\n   \nDer Mond umkreist die Erde.\n");
    auto scenes = scenes_from_text_file(f.path(), small_options());
    ASSERT_EQ(scenes.size(), 2u);
    EXPECT_EQ(scenes[0].names, (std::vector<std::string>{"robot", "box"}));
    EXPECT_EQ(scenes[0].label, "The robot pushes the box.");
    EXPECT_EQ(scenes[1].names, (std::vector<std::string>{"mond", "erde"}));
}

TEST(TextFrontendFile, ErrorsNameFileAndLine) {
    TempFile f("The robot pushes the box.\n\nhello world\n");
    std::string msg = input_error([&] { scenes_from_text_file(f.path(), small_options()); });
    EXPECT_NE(msg.find(f.path() + ", line 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("no entity found"), std::string::npos) << msg;

    TextOptions o = small_options();
    o.max_bytes = 40;
    TempFile longer("The box.\n" + std::string(100, 'x') + "\n");
    msg = input_error([&] { scenes_from_text_file(longer.path(), o); });
    EXPECT_NE(msg.find(", line 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("limit of 40 bytes"), std::string::npos) << msg;

    TempFile empty("\n \n");
    msg = input_error([&] { scenes_from_text_file(empty.path(), o); });
    EXPECT_NE(msg.find("no non-empty line"), std::string::npos) << msg;

    msg = input_error([&] { scenes_from_text_file("/nonexistent/gasm/sentences.txt", o); });
    EXPECT_NE(msg.find("/nonexistent/gasm/sentences.txt"), std::string::npos) << msg;
}

}  // namespace
