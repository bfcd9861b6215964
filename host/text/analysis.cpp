// SPDX-License-Identifier: MIT
// The driver of the stages (analyse) and the steps that need the whole token list at once:
// language detection, sentence boundaries and the capital-letter test.
#include "host/text/analysis.hpp"

#include <algorithm>

#include "host/text/utf8.hpp"

namespace gasm::text {
namespace {

// How strongly word w speaks for a language: 2 for a cue word, 1 for a noun or keyword only
// that language knows.
size_t language_score(std::string_view w, const LanguageLexicon& own,
                      const LanguageLexicon& other) {
    if (contains(own.cues, w)) return 2;
    bool own_word = own.noun(w) != nullptr || !own.phrases(w).empty();
    bool other_word = other.noun(w) != nullptr || !other.phrases(w).empty();
    return own_word && !other_word ? 1 : 0;
}

// German when its score (plus one per word with an umlaut or ß) beats English; a tie is
// English. A lone capital letter ("Kiste A") is a name, never the article "a".
Language detect_language(const TokenList& tokens) {
    const LanguageLexicon& en = lexicon(Language::english);
    const LanguageLexicon& de = lexicon(Language::german);
    size_t english = 0, german = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (!tokens.is_word(i)) continue;
        std::string_view w = tokens.lower(i);
        if (w.size() == 1 && tokens[i].capitalised && i > 0) continue;
        english += language_score(w, en, de);
        german += language_score(w, de, en);
        bool umlaut = w.find("ä") != w.npos || w.find("ö") != w.npos || w.find("ü") != w.npos ||
                      w.find("ß") != w.npos;
        german += umlaut;
    }
    return german > english ? Language::german : Language::english;
}

// A '.' that follows an abbreviation or a single letter ("z.B.", "e.g.", "ca."), that is
// glued to the next word ("example.com"), or that follows a unit and precedes a lower-case
// word ("5 ft. from the wall") does not end a sentence.
bool dot_ends_sentence(const TokenList& t, size_t i, const LanguageLexicon& lex) {
    if (i == 0 || !t.is_word(i - 1)) return true;
    std::string_view prev = t.lower(i - 1);
    if (contains(lex.abbreviations, prev) || utf8::length(prev) == 1) return false;
    if (i + 1 < t.size() && !t[i + 1].space_before) return false;
    bool unit_after_number = i >= 2 && t[i - 2].kind == TokenKind::number && lex.unit(prev);
    bool lower_next = t.is_word(i + 1) && !t[i + 1].capitalised;
    return !(unit_after_number && lower_next);
}

void assign_sentences(TokenList& t, const LanguageLexicon& lex) {
    size_t sentence = 0;
    bool pending = false, first = true;
    for (size_t i = 0; i < t.size(); ++i) {
        Token& tok = t.tokens[i];
        if (i > 0 && (pending || tok.newline_before)) {
            ++sentence;
            first = true;
        }
        tok.sentence = sentence;
        if (tok.kind != TokenKind::punct && first) {
            tok.sentence_initial = true;
            first = false;
        }
        pending = tok.kind == TokenKind::punct && is_sentence_mark(tok.mark) &&
                  (tok.mark != '.' || dot_ends_sentence(t, i, lex));
    }
}

// Capitals mark nouns (German) and names (English) only in ordinary writing; in title case
// or all caps most words are capitalised and the rule is switched off.
bool capitals_are_informative(const TokenList& t) {
    size_t words = 0, capitalised = 0;
    for (size_t i = 0; i < t.size(); ++i) {
        if (!t.is_word(i) || t[i].sentence_initial) continue;
        ++words;
        capitalised += t[i].capitalised;
    }
    return words < 3 || capitalised * 10 <= words * 6;
}

}  // namespace

size_t Analysis::first_mention_from(size_t t) const {
    auto it = std::lower_bound(mentions.begin(), mentions.end(), t,
                               [](const Mention& m, size_t pos) { return m.begin < pos; });
    return static_cast<size_t>(it - mentions.begin());
}

size_t Analysis::first_mention_of_sentence(size_t s) const {
    auto it = std::lower_bound(mentions.begin(), mentions.end(), s,
                               [](const Mention& m, size_t sent) { return m.sentence < sent; });
    size_t k = static_cast<size_t>(it - mentions.begin());
    return k < mentions.size() && mentions[k].sentence == s ? k : mentions.size();
}

bool Analysis::starts_phrase(size_t at, const std::vector<std::string>& words) const {
    if (words.empty()) return false;
    for (size_t k = 0; k < words.size(); ++k) {
        size_t i = at + k;
        if (!tokens.is_word(i) || tokens.lower(i) != words[k]) return false;
        if (k > 0 && tokens[i].sentence != tokens[at].sentence) return false;
    }
    return true;
}

Analysis analyse(std::string_view text, int max_entities) {
    Analysis a;
    a.tokens = tokenize(text);
    a.language = detect_language(a.tokens);
    assign_sentences(a.tokens, a.lex());
    a.capital_rule = capitals_are_informative(a.tokens);
    a.roles.assign(a.tokens.size(), Role::free);
    find_measurements(a);
    find_keywords(a);
    find_mentions(a, max_entities);
    return a;
}

}  // namespace gasm::text
