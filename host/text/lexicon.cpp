// SPDX-License-Identifier: MIT
// Turns the plain word tables of lexicon_en.cpp and lexicon_de.cpp into hash lookups, once per
// language, and holds the class and relation facts shared by both languages.
#include "host/text/lexicon.hpp"

#include <algorithm>

#include "host/text/utf8.hpp"

namespace gasm::text {
namespace {

// Splits "a|b|c" (or "a b c" with sep ' ') into its parts, skipping empty ones.
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(sep, start);
        if (end == std::string_view::npos) end = s.size();
        if (end > start) parts.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

std::vector<std::string> split_words(std::string_view phrase) {
    std::vector<std::string> words;
    for (auto w : split(phrase, ' ')) words.emplace_back(w);
    return words;
}

WordSet make_set(WordList words) {
    WordSet set;
    for (std::string_view w : words) set.emplace(w);
    return set;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Longest entries first, so the first match of a scan is the longest one.
template <class T>
void sort_longest_first(WordMap<std::vector<T>>& map) {
    for (auto& [first, list] : map) {
        std::stable_sort(list.begin(), list.end(),
                         [](const T& a, const T& b) { return a.words.size() > b.words.size(); });
    }
}

}  // namespace

LanguageLexicon::LanguageLexicon(const LanguageTables& t)
    : articles(make_set(t.articles)),
      stop_words(make_set(t.stop_words)),
      hedges(make_set(t.hedges)),
      connectors(make_set(t.connectors)),
      distance_words(make_set(t.distance_words)),
      vertex_markers(make_set(t.vertex_markers)),
      directions(make_set(t.directions)),
      abbreviations(make_set(t.abbreviations)),
      cues(make_set(t.cues)),
      modifiers_(make_set(t.modifiers)),
      adjectives_(make_set(t.adjectives)) {
    for (auto p : t.size_words) size_phrases.push_back(split_words(p));
    for (auto p : t.apart_words) apart_phrases.push_back(split_words(p));
    for (auto e : t.modifier_endings) modifier_endings_.emplace_back(e);
    for (auto s : t.adjective_suffixes) adjective_suffixes_.emplace_back(s);
    for (auto s : t.noun_suffixes) noun_suffixes_.emplace_back(s);
    endings_.assign(t.noun_endings.begin(), t.noun_endings.end());
    add_nouns(t.nouns, /*entity=*/true);
    add_nouns(t.type_words, /*entity=*/false);
    add_keywords(t.keywords);
    add_units(t.units);
    sort_longest_first(multi_nouns_);
    sort_longest_first(phrases_);
}

void LanguageLexicon::add_nouns(std::span<const NounEntry> entries, bool entity) {
    for (const NounEntry& e : entries) {
        auto forms = split(e.forms, '|');
        if (forms.empty()) continue;
        NounInfo info{std::string(forms[0]), e.cls, entity};
        for (std::string_view form : forms) {
            auto words = split(form, ' ');
            if (words.size() == 1) {
                nouns_.emplace(std::string(form), info);  // the first table entry wins
                continue;
            }
            MultiNoun multi{split_words(form), info};
            multi_nouns_[multi.words[0]].push_back(std::move(multi));
        }
    }
}

void LanguageLexicon::add_keywords(std::span<const KeywordEntry> entries) {
    for (const KeywordEntry& e : entries) {
        for (std::string_view phrase : split(e.phrases, '|')) {
            Phrase p{split_words(phrase), e.kind, e.rule};
            if (!p.words.empty()) phrases_[p.words[0]].push_back(std::move(p));
        }
    }
}

void LanguageLexicon::add_units(std::span<const UnitEntry> entries) {
    for (const UnitEntry& e : entries) {
        for (std::string_view form : split(e.forms, '|')) {
            units_.emplace(std::string(form), UnitInfo{e.factor, e.quantity});
        }
    }
}

const NounInfo* LanguageLexicon::noun(std::string_view word) const {
    if (auto it = nouns_.find(word); it != nouns_.end()) return &it->second;
    std::string candidate;
    for (const Ending& e : endings_) {
        if (!ends_with(word, e.suffix)) continue;
        size_t stem = word.size() - e.suffix.size();
        if (stem + e.replacement.size() < 3) continue;
        candidate.assign(word.substr(0, stem));
        candidate.append(e.replacement);
        if (auto it = nouns_.find(candidate); it != nouns_.end()) return &it->second;
    }
    return nullptr;
}

std::optional<NounInfo> LanguageLexicon::compound(std::string_view word) const {
    constexpr size_t kMaxCompoundBytes = 64;  // no real compound is longer; bounds the work
    if (word.size() > kMaxCompoundBytes) return std::nullopt;
    // Split points from the left: the first hit has the longest known last part.
    size_t pos = 0, letters = 0;
    while (pos < word.size()) {
        utf8::decode(word, pos);
        ++letters;
        if (letters < 3 || pos >= word.size()) continue;
        std::string_view tail = word.substr(pos);
        if (tail.front() == '-') tail.remove_prefix(1);
        if (utf8::length(tail) < 3) break;
        const NounInfo* hit = noun(tail);
        if (hit == nullptr || !hit->entity) continue;
        std::string head(word.substr(0, pos));
        return NounInfo{head + (word[pos] == '-' ? "-" : "") + hit->lemma, hit->cls, true};
    }
    return std::nullopt;
}

std::span<const MultiNoun> LanguageLexicon::multi_nouns(std::string_view first) const {
    auto it = multi_nouns_.find(first);
    if (it == multi_nouns_.end()) return {};
    return it->second;
}

std::span<const Phrase> LanguageLexicon::phrases(std::string_view first) const {
    auto it = phrases_.find(first);
    if (it == phrases_.end()) return {};
    return it->second;
}

const UnitInfo* LanguageLexicon::unit(std::string_view word) const {
    auto it = units_.find(word);
    return it == units_.end() ? nullptr : &it->second;
}

std::optional<std::string> LanguageLexicon::modifier_lemma(std::string_view word) const {
    if (contains(modifiers_, word)) return std::string(word);
    for (const std::string& e : modifier_endings_) {
        if (!ends_with(word, e) || word.size() <= e.size()) continue;
        std::string_view stem = word.substr(0, word.size() - e.size());
        if (contains(modifiers_, stem)) return std::string(stem);
    }
    return std::nullopt;
}

bool LanguageLexicon::adjective(std::string_view word) const {
    if (modifier_lemma(word)) return true;
    if (contains(adjectives_, word)) return true;
    for (const std::string& e : modifier_endings_) {
        if (ends_with(word, e) && word.size() > e.size() &&
            contains(adjectives_, word.substr(0, word.size() - e.size()))) {
            return true;
        }
    }
    return false;
}

static bool ends_in_any(std::string_view word, const std::vector<std::string>& suffixes) {
    for (const std::string& s : suffixes) {
        if (word.size() > s.size() + 1 && ends_with(word, s)) return true;
    }
    return false;
}

bool LanguageLexicon::adjective_like(std::string_view word) const {
    return ends_in_any(word, adjective_suffixes_);
}

bool LanguageLexicon::noun_like(std::string_view word) const {
    return ends_in_any(word, noun_suffixes_);
}

bool LanguageLexicon::inflects_to(std::string_view word, std::string_view base) const {
    if (word == base) return true;
    for (const Ending& e : endings_) {
        if (!ends_with(word, e.suffix)) continue;
        std::string_view stem = word.substr(0, word.size() - e.suffix.size());
        if (stem.size() + e.replacement.size() == base.size() && base.starts_with(stem) &&
            base.substr(stem.size()) == e.replacement) {
            return true;
        }
    }
    return false;
}

const LanguageLexicon& lexicon(Language lang) {
    static const LanguageLexicon english(english_tables());
    static const LanguageLexicon german(german_tables());
    return lang == Language::english ? english : german;
}

std::string_view class_name(EntityClass cls) {
    switch (cls) {
        case EntityClass::robotic:
            return "robotic";
        case EntityClass::industrial:
            return "industrial";
        case EntityClass::scientific:
            return "scientific";
        case EntityClass::electronic:
            return "electronic";
        case EntityClass::furniture:
            return "furniture";
        case EntityClass::spatial:
            return "spatial";
        case EntityClass::physical:
            return "physical";
        case EntityClass::temporal:
            return "temporal";
        case EntityClass::abstract:
            return "abstract";
        case EntityClass::unknown:
            return "unknown";
    }
    return "unknown";
}

float class_value(EntityClass cls) {
    switch (cls) {
        case EntityClass::robotic:
            return 0.8f;
        case EntityClass::physical:
            return 0.6f;
        case EntityClass::spatial:
            return 0.4f;
        case EntityClass::temporal:
            return 0.2f;
        case EntityClass::abstract:
            return 0.0f;
        default:
            return 0.5f;
    }
}

int relation_first_dim(RelationKind kind) {
    return 8 * static_cast<int>(kind);
}

}  // namespace gasm::text
