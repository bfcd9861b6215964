// SPDX-License-Identifier: MIT
// The stages between a text and a Scene, and what they hand each other. analyse() runs them
// in order: tokens -> language -> sentences -> measurements -> keywords -> mentions. Later
// stages read the roles earlier ones gave tokens, so a unit is never a noun and a keyword
// never a name. Every stage is one pass over the tokens (plus binary searches), so the whole
// front end runs in about linear time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "host/scene.hpp"
#include "host/text/lexicon.hpp"
#include "host/text/tokenizer.hpp"

namespace gasm::text {

enum class Role : uint8_t { free, measurement, keyword, name_part };

struct Entity {
    std::string name;  // lower-case surface of the first mention ("red box")
    std::string key;   // modifiers' lemmas | noun lemma # identifier: what de-duplicates
    std::string head;  // the noun's lemma
    EntityClass cls = EntityClass::unknown;
};

struct Mention {
    size_t begin = 0, end = 0;  // token range, modifiers included
    size_t sentence = 0;
    int entity = -1;  // -1: its entity did not fit under max_entities
};

struct KeywordHit {
    size_t begin = 0, end = 0;
    size_t sentence = 0;
    RelationKind kind = RelationKind::other;
    KeywordRule rule = KeywordRule::plain;
};

struct Measurement {
    size_t begin = 0, end = 0;  // the number through its unit
    size_t sentence = 0;
    double value = 0;  // metres or radians
    Quantity quantity = Quantity::length;
    bool attribute = false;        // "a 2 m tall robot": a size, not a distance
    bool apart = false;            // "2 m apart": between the two mentions before
    bool distance_phrase = false;  // "at a distance of 400 km"
};

struct Analysis {
    Language language = Language::english;
    TokenList tokens;
    std::vector<Role> roles;   // per token
    bool capital_rule = true;  // false for title case or all caps: capitals say nothing then
    std::vector<Measurement> measurements;
    std::vector<KeywordHit> keywords;
    std::vector<Mention> mentions;  // in text order
    std::vector<Entity> entities;   // in order of first mention

    const LanguageLexicon& lex() const { return lexicon(language); }
    bool free_word(size_t i) const { return tokens.is_word(i) && roles[i] == Role::free; }
    // Index of the first mention that starts at or after token `t` (mentions.size() if none).
    size_t first_mention_from(size_t t) const;
    // Index of the first mention of sentence `s`, or mentions.size().
    size_t first_mention_of_sentence(size_t s) const;
    // True when the words from token `at` on are `words`, in order and without a gap.
    bool starts_phrase(size_t at, const std::vector<std::string>& words) const;
};

Analysis analyse(std::string_view text, int max_entities);

// Stages (each in its own file).
void find_measurements(Analysis& a);                // measurements.cpp
void find_keywords(Analysis& a);                    // relations.cpp
void find_mentions(Analysis& a, int max_entities);  // mentions.cpp

// A noun or type word at token i for the analysis' language (mentions.cpp): own lexicon
// first, then the other language's under the rules of README.md ("Entities").
const NounInfo* lookup_noun(const Analysis& a, size_t i);

// Outputs.
// R (N, N, 32) row-major, R[source, target, :], from the keyword hits (relations.cpp).
std::vector<float> relation_tensor(const Analysis& a);
// Distance and angle constraints from the measurements (constraints.cpp).
void add_constraints(const Analysis& a, std::vector<DistanceConstraint>& distance,
                     std::vector<AngleConstraint>& angle);

inline constexpr int kRelationDim = 32;

}  // namespace gasm::text
