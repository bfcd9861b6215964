// SPDX-License-Identifier: MIT
// The word tables of the text front end (lexicon_en.cpp, lexicon_de.cpp) and their compiled
// lookups. The tables are plain arrays a reader can extend; README.md beside them says what
// each one is for and how its entries are written. In short:
//   - a noun entry lists its forms separated by '|', the first being the lemma that
//     de-duplicates mentions ("shelf|shelves"); regular inflections come from the language's
//     ending rules and need not be listed; a form may have several words ("robot arm");
//   - a keyword entry lists alternative phrases separated by '|', each of one or more words
//     ("to the left of|left of"); the longest phrase that matches wins;
//   - a unit entry lists its spellings and the factor to metres or radians.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gasm::text {

enum class Language : uint8_t { english, german };

enum class EntityClass : uint8_t {
    robotic,
    industrial,
    scientific,
    electronic,
    furniture,
    spatial,
    physical,
    temporal,
    abstract,
    unknown
};

// Relation kinds and the 8 dimensions of R each fills (relation_first_dim).
enum class RelationKind : uint8_t { spatial, temporal, physical, other };

// How a keyword picks its objects or resolves a double meaning (README.md, "Relations").
enum class KeywordRule : uint8_t {
    plain,                    // one object: the nearest mention after
    two_objects,              // "between A and B": both A and B
    temporal_if_time_object,  // spatial, unless a number or a time word follows ("vor")
    spatial_if_direction,     // temporal, unless a direction word follows ("nach links")
};

enum class Quantity : uint8_t { length, angle };

struct NounEntry {
    std::string_view forms;  // "lemma|irregular form|..."
    EntityClass cls;
};

struct KeywordEntry {
    std::string_view phrases;  // "phrase|phrase", words separated by single spaces
    RelationKind kind;
    KeywordRule rule = KeywordRule::plain;
};

struct UnitEntry {
    std::string_view forms;  // "cm|centimeter|centimeters"
    double factor;           // to metres (length) or radians (angle)
    Quantity quantity;
};

// An inflection ending and what replaces it to reach the lemma ("ies" -> "y").
struct Ending {
    std::string_view suffix, replacement;
};

using WordList = std::span<const std::string_view>;

struct LanguageTables {
    std::span<const NounEntry> nouns;       // entities wherever they appear
    std::span<const NounEntry> type_words;  // typed (temporal, abstract) but entities only
                                            // after an article or preposition
    std::span<const KeywordEntry> keywords;
    std::span<const UnitEntry> units;
    std::span<const Ending> noun_endings;
    WordList articles;            // words that introduce a noun phrase
    WordList stop_words;          // never an entity
    WordList modifiers;           // adjectives kept in an entity's name ("red box")
    WordList adjectives;          // adjectives skipped, not kept ("the quick fox")
    WordList modifier_endings;    // inflection endings both of those may carry (German)
    WordList adjective_suffixes;  // an unknown word ending so is read as an adjective...
    WordList noun_suffixes;       // ...but one of these endings may also end a noun
    WordList hedges;              // "about 2 m"
    WordList connectors;          // "and", joining the two objects of "between"
    WordList size_words;          // "2 m tall": a size, not a distance
    WordList apart_words;         // "2 m apart": between the two mentions before
    WordList distance_words;      // "at a distance of 400 km": the same when none follows
    WordList vertex_markers;      // "a 45° angle at the desk"
    WordList directions;          // "nach links" (KeywordRule::spatial_if_direction)
    WordList abbreviations;       // a '.' after these does not end a sentence
    WordList cues;                // frequent words that tell the language
};

const LanguageTables& english_tables();
const LanguageTables& german_tables();

std::string_view class_name(EntityClass cls);
// The value of feature block 0 (interface.md): robotic 0.8, physical 0.6, spatial 0.4,
// temporal 0.2, abstract 0.0, every other class 0.5.
float class_value(EntityClass cls);
int relation_first_dim(RelationKind kind);  // 0, 8, 16 or 24

// ---- Compiled lookups ----------------------------------------------------------------------

struct NounInfo {
    std::string lemma;
    EntityClass cls = EntityClass::unknown;
    bool entity = true;  // false for type words
};

struct Phrase {
    std::vector<std::string> words;
    RelationKind kind;
    KeywordRule rule;
};

struct MultiNoun {
    std::vector<std::string> words;
    NounInfo info;
};

struct UnitInfo {
    double factor;
    Quantity quantity;
};

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using WordSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;
template <class V>
using WordMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

inline bool contains(const WordSet& set, std::string_view w) {
    return set.find(w) != set.end();
}

class LanguageLexicon {
  public:
    explicit LanguageLexicon(const LanguageTables& tables);

    // A single-word noun or type word: an exact form, or a form reached by one ending rule.
    const NounInfo* noun(std::string_view word) const;
    // A compound whose last part is a noun of at least 3 letters after a part of at least 3
    // ("Holzkiste" -> kiste): the lemma joins the first part and the noun's lemma.
    std::optional<NounInfo> compound(std::string_view word) const;
    // Multi-word nouns and keyword phrases starting with `first`, longest first.
    std::span<const MultiNoun> multi_nouns(std::string_view first) const;
    std::span<const Phrase> phrases(std::string_view first) const;
    const UnitInfo* unit(std::string_view word) const;
    // The lemma of a modifier ("roten" -> "rot"), or nullopt.
    std::optional<std::string> modifier_lemma(std::string_view word) const;
    // True when `word` is a table adjective (modifiers or adjectives, inflected or not).
    bool adjective(std::string_view word) const;
    // True when `word` ends like an adjective (adjective_suffixes) and is longer than that.
    bool adjective_like(std::string_view word) const;
    // True when `word` ends in one of noun_suffixes ("building", "factory").
    bool noun_like(std::string_view word) const;
    // True when `word` is `base` or reaches it by one ending rule.
    bool inflects_to(std::string_view word, std::string_view base) const;

    WordSet articles, stop_words, hedges, connectors, distance_words, vertex_markers, directions,
        abbreviations, cues;
    // Word sequences (one word or more) that may follow a measurement.
    std::vector<std::vector<std::string>> size_phrases, apart_phrases;

  private:
    void add_nouns(std::span<const NounEntry> entries, bool entity);
    void add_keywords(std::span<const KeywordEntry> entries);
    void add_units(std::span<const UnitEntry> entries);

    WordMap<NounInfo> nouns_;
    WordMap<std::vector<MultiNoun>> multi_nouns_;
    WordMap<std::vector<Phrase>> phrases_;
    WordMap<UnitInfo> units_;
    WordSet modifiers_, adjectives_;
    std::vector<std::string> modifier_endings_, adjective_suffixes_, noun_suffixes_;
    std::vector<Ending> endings_;
};

// The compiled tables of one language, built once on first use (thread-safe).
const LanguageLexicon& lexicon(Language lang);

inline Language other(Language lang) {
    return lang == Language::english ? Language::german : Language::english;
}

}  // namespace gasm::text
