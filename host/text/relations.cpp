// SPDX-License-Identifier: MIT
// Relation keywords and the relation tensor R (N, N, 32). A keyword phrase (the longest that
// matches) connects the nearest mention before it with the nearest mention after it, within
// its sentence, in both directions; "between" takes the two mentions joined by "and". A
// fronted phrase with no mention before it ("Über dem Tisch hängt eine Lampe") connects its
// object with the next mention after the object. Spatial keywords fill dims 0-7, temporal
// 8-15, physical 16-23, every other kind 24-31; R[i, i, :] is 0.5.
#include "host/text/analysis.hpp"

namespace gasm::text {
namespace {

// Number of tokens of phrase p matched at i (free words, one sentence), or 0.
size_t match_length(const Analysis& a, size_t i, const Phrase& p) {
    for (size_t k = 0; k < p.words.size(); ++k) {
        size_t j = i + k;
        if (!a.free_word(j) || a.tokens.lower(j) != p.words[k]) return 0;
        if (a.tokens[j].sentence != a.tokens[i].sentence) return 0;
    }
    return p.words.size();
}

// A keyword qualifying a measurement ("over 2 m", "within 30 cm", "bis zu 2 m") is a hedge
// on the number, not a relation: true when only hedge words separate it from a measurement.
bool qualifies_measurement(const Analysis& a, size_t end) {
    const LanguageLexicon& lex = a.lex();
    constexpr int kMaxHedgeWords = 3;
    size_t j = end;
    for (int k = 0; k <= kMaxHedgeWords && j < a.tokens.size(); ++k, ++j) {
        if (a.roles[j] == Role::measurement) return true;
        if (!a.tokens.is_word(j) || !contains(lex.hedges, a.tokens.lower(j))) return false;
    }
    return false;
}

// A one-word verb keyword after an article, table adjectives allowed between, is a noun: "the
// press", "the hydraulic press", "the lift". (Prepositions never are: "the one in the box".)
bool after_article(const Analysis& a, size_t i) {
    const LanguageLexicon& lex = a.lex();
    constexpr size_t kMaxAdjectives = 2;
    size_t j = i;
    for (size_t k = 0; k <= kMaxAdjectives && j > 0; ++k) {
        --j;
        if (!a.free_word(j) || a.tokens[j].sentence != a.tokens[i].sentence) return false;
        std::string_view w = a.tokens.lower(j);
        if (contains(lex.articles, w)) return true;
        if (!lex.adjective(w)) return false;
    }
    return false;
}

// Resolves the double meanings of KeywordRule from the words after the keyword.
RelationKind resolve(const Analysis& a, const KeywordHit& hit) {
    const LanguageLexicon& lex = a.lex();
    size_t j = hit.end;
    while (a.free_word(j) && contains(lex.articles, a.tokens.lower(j))) ++j;
    if (hit.rule == KeywordRule::temporal_if_time_object) {
        if (j < a.tokens.size() && a.tokens[j].kind == TokenKind::number) {
            return RelationKind::temporal;
        }
        const NounInfo* noun = a.tokens.is_word(j) ? lookup_noun(a, j) : nullptr;
        bool time_word = noun != nullptr && noun->cls == EntityClass::temporal;
        return time_word ? RelationKind::temporal : RelationKind::spatial;
    }
    if (hit.rule == KeywordRule::spatial_if_direction && a.tokens.is_word(hit.end) &&
        contains(lex.directions, a.tokens.lower(hit.end))) {
        return RelationKind::spatial;
    }
    return hit.kind;
}

// True when the tokens [from, to) only join two noun phrases: "and", ",", articles.
bool joins(const Analysis& a, size_t from, size_t to) {
    const LanguageLexicon& lex = a.lex();
    bool connector = false;
    for (size_t j = from; j < to; ++j) {
        std::string_view w = a.tokens.lower(j);
        if (contains(lex.connectors, w)) {
            connector = true;
        } else if (!contains(lex.articles, w)) {
            return false;
        }
    }
    return connector;
}

void connect(const Analysis& a, const Mention& x, const Mention& y, int first_dim,
             std::vector<float>& r) {
    int i = x.entity, j = y.entity;
    if (i < 0 || j < 0 || i == j) return;
    size_t n = a.entities.size();
    for (int d = first_dim; d < first_dim + 8; ++d) {
        r[(i * n + j) * kRelationDim + d] = 1.0f;
        r[(j * n + i) * kRelationDim + d] = 1.0f;
    }
}

// Connects the mentions of one keyword hit. `object_of_phrase` marks mentions that are the
// object of an earlier non-verb keyword: a verb's subject is never one of those ("the robot
// with the gripper pushes the box" pushes robot-box; "Nach dem Start bewegt der Roboter die
// Kiste" moves Roboter-Kiste).
void apply_hit(const Analysis& a, const KeywordHit& hit, std::vector<uint8_t>& object_of_phrase,
               std::vector<float>& r) {
    const auto& m = a.mentions;
    size_t k = a.first_mention_from(hit.end);
    auto in_sentence = [&](size_t idx) {
        return idx < m.size() && m[idx].sentence == hit.sentence;
    };
    if (!in_sentence(k)) return;
    std::vector<size_t> objects{k};
    if (hit.rule == KeywordRule::two_objects && in_sentence(k + 1) &&
        joins(a, m[k].end, m[k + 1].begin)) {
        objects.push_back(k + 1);
    }
    bool verb = hit.kind == RelationKind::physical;
    if (!verb) {
        for (size_t obj : objects) object_of_phrase[obj] = 1;
    }
    // Mentions never overlap keyword tokens, so mention k-1 (if any) ends before the hit.
    size_t before = k;
    while (before > 0 && in_sentence(before - 1) && verb && object_of_phrase[before - 1]) {
        --before;
    }
    size_t subject = before > 0 && in_sentence(before - 1) ? before - 1 : objects.back() + 1;
    if (!in_sentence(subject)) return;
    int first_dim = relation_first_dim(hit.kind);
    for (size_t obj : objects) connect(a, m[subject], m[obj], first_dim, r);
}

}  // namespace

void find_keywords(Analysis& a) {
    const LanguageLexicon& lex = a.lex();
    for (size_t i = 0; i < a.tokens.size(); ++i) {
        if (!a.free_word(i)) continue;
        const Phrase* found = nullptr;
        size_t len = 0;
        for (const Phrase& p : lex.phrases(a.tokens.lower(i))) {
            if ((len = match_length(a, i, p)) > 0) {
                found = &p;
                break;
            }
        }
        if (found == nullptr) continue;
        bool verb = found->kind == RelationKind::physical || found->kind == RelationKind::other;
        if (len == 1 && verb && after_article(a, i)) continue;
        for (size_t k = i; k < i + len; ++k) a.roles[k] = Role::keyword;
        KeywordHit hit{i, i + len, a.tokens[i].sentence, found->kind, found->rule};
        i += len - 1;
        if (hit.kind != RelationKind::physical && qualifies_measurement(a, hit.end)) continue;
        hit.kind = resolve(a, hit);
        a.keywords.push_back(hit);
    }
}

std::vector<float> relation_tensor(const Analysis& a) {
    size_t n = a.entities.size();
    std::vector<float> r(n * n * kRelationDim, 0.0f);
    for (size_t i = 0; i < n; ++i) {
        for (int d = 0; d < kRelationDim; ++d) r[(i * n + i) * kRelationDim + d] = 0.5f;
    }
    std::vector<uint8_t> object_of_phrase(a.mentions.size(), 0);
    for (const KeywordHit& hit : a.keywords) apply_hit(a, hit, object_of_phrase, r);
    return r;
}

}  // namespace gasm::text
