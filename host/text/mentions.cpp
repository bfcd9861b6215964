// SPDX-License-Identifier: MIT
// Entity mentions: which words name things, what each is called, and which mentions name the
// same thing. The rules (README.md, "Entities") in the order they run:
//   1. lexicon nouns, multi-word ones first ("conveyor belt"), in any inflection the
//      language's ending rules reach; German compounds through their last part;
//   2. capitalised words that do not start a sentence (German nouns, English names), unless
//      capitals are not informative in this text (title case, all caps);
//   3. English noun-noun compounds join ("robot arm", "table lamp");
//   4. an identifier right after a noun joins it ("box 2", "Kiste A");
//   5. after an article or a spatial preposition, an unknown word is a noun when no lexicon
//      noun follows in the same phrase: the first capitalised word in German, else the first
//      word that does not look like an adjective ("the shiny gizmo" -> gizmo);
//   6. colour, size, order and material adjectives right before a noun join its name
//      ("red cube", "rote würfel").
// De-duplication: a mention with adjectives or an identifier is the entity with the same
// adjectives, noun and identifier; a bare noun is the most recent entity with that noun.
#include <algorithm>
#include <optional>
#include <unordered_map>

#include "host/text/analysis.hpp"
#include "host/text/utf8.hpp"

namespace gasm::text {
namespace {

constexpr size_t kMaxNounBytes = 64;      // longer words are not looked up as nouns
constexpr size_t kMaxUnknownBytes = 128;  // nor taken as unknown nouns
constexpr size_t kMaxPhraseWords = 4;     // words scanned after an article or preposition
constexpr size_t kMaxModifiers = 2;       // adjectives kept before a noun
constexpr size_t kMaxCompoundNouns = 3;   // "robot arm joint" at most

struct Span {
    size_t begin = 0, end = 0;  // the noun's tokens
    NounInfo info;
    bool lexicon = true;   // from the lexicon (may join English compounds)
    size_t id = SIZE_MAX;  // token of an identifier ("box 2"), if any
};

class MentionFinder {
  public:
    MentionFinder(Analysis& a, int max_entities) : a_(a), lex_(a.lex()), max_(max_entities) {
        span_at_.assign(a.tokens.size(), -1);
    }

    void run() {
        find_lexicon_nouns();
        if (a_.language == Language::english) join_compounds();
        find_identifiers();
        find_phrase_nouns();
        std::sort(spans_.begin(), spans_.end(),
                  [](const Span& x, const Span& y) { return x.begin < y.begin; });
        for (const Span& s : spans_) add_mention(s);
    }

  private:
    std::string_view word(size_t i) const { return a_.tokens.lower(i); }
    bool same_sentence(size_t i, size_t j) const {
        return a_.tokens[i].sentence == a_.tokens[j].sentence;
    }
    bool is_function_word(std::string_view w) const {
        return contains(lex_.stop_words, w) || contains(lex_.articles, w);
    }

    void add_span(Span s) {
        for (size_t k = s.begin; k < s.end; ++k) span_at_[k] = static_cast<int>(spans_.size());
        spans_.push_back(std::move(s));
    }

    void find_lexicon_nouns() {
        for (size_t i = 0; i < a_.tokens.size(); ++i) {
            if (!a_.free_word(i)) continue;
            if (size_t len = multi_noun(i); len > 0) {
                i += len - 1;
                continue;
            }
            if (auto noun = single_noun(i)) {
                add_span({i, i + 1, std::move(*noun), true});
            } else if (auto name = capitalised_noun(i)) {
                add_span({i, i + 1, std::move(*name), false});
            }
        }
    }

    // A multi-word lexicon noun starting at i, own language first; returns its length.
    size_t multi_noun(size_t i) {
        for (Language lang : {a_.language, other(a_.language)}) {
            const LanguageLexicon& lex = lexicon(lang);
            for (const MultiNoun& m : lex.multi_nouns(word(i))) {
                if (!matches_multi(i, m, lex)) continue;
                add_span({i, i + m.words.size(), m.info, true});
                return m.words.size();
            }
        }
        return 0;
    }

    bool matches_multi(size_t i, const MultiNoun& m, const LanguageLexicon& lex) const {
        size_t last = m.words.size() - 1;
        for (size_t k = 0; k <= last; ++k) {
            size_t j = i + k;
            if (!a_.free_word(j) || !same_sentence(i, j)) return false;
            bool ok = k < last ? word(j) == m.words[k] : lex.inflects_to(word(j), m.words[k]);
            if (!ok) return false;
        }
        return true;
    }

    std::optional<NounInfo> single_noun(size_t i) const {
        if (const NounInfo* info = lookup_noun(a_, i)) {
            if (info->entity) return *info;
            return std::nullopt;
        }
        const Token& t = a_.tokens[i];
        if (a_.language == Language::german && t.capitalised && !is_function_word(word(i))) {
            return lex_.compound(word(i));
        }
        return std::nullopt;
    }

    // Rule 2: a capitalised word inside a sentence that no table claims.
    std::optional<NounInfo> capitalised_noun(size_t i) const {
        const Token& t = a_.tokens[i];
        std::string_view w = word(i);
        if (!a_.capital_rule || !t.capitalised || t.all_caps || t.sentence_initial) {
            return std::nullopt;
        }
        if (is_function_word(w) || lex_.unit(w) || lex_.modifier_lemma(w)) return std::nullopt;
        if (lookup_noun(a_, i) != nullptr) return std::nullopt;  // a type word: needs an article
        if (utf8::length(w) < 2 || w.size() > kMaxNounBytes) return std::nullopt;
        return NounInfo{std::string(w), EntityClass::unknown, true};
    }

    // Rule 3: adjacent lexicon nouns form one English compound named by all its words.
    void join_compounds() {
        std::vector<Span> joined;
        for (Span& s : spans_) {
            if (looks_like_verb(s)) continue;
            if (!joined.empty()) {
                Span& prev = joined.back();
                bool adjacent = prev.lexicon && s.lexicon && prev.end == s.begin &&
                                same_sentence(prev.begin, s.begin);
                if (adjacent && prev.end - prev.begin < kMaxCompoundNouns) {
                    std::string lemma;
                    for (size_t k = prev.begin; k < s.begin; ++k) lemma.append(word(k)).append(" ");
                    prev.info = NounInfo{lemma + s.info.lemma, s.info.cls, true};
                    prev.end = s.end;
                    continue;
                }
            }
            joined.push_back(std::move(s));
        }
        spans_ = std::move(joined);
        std::fill(span_at_.begin(), span_at_.end(), -1);
        for (size_t k = 0; k < spans_.size(); ++k) {
            for (size_t t = spans_[k].begin; t < spans_[k].end; ++t) span_at_[t] = int(k);
        }
    }

    // "The crane hoists the box": an -s form of a noun right after another noun and right
    // before an article is the sentence's verb, not a plural.
    bool looks_like_verb(const Span& s) const {
        if (s.end != s.begin + 1 || s.begin == 0 || span_at_[s.begin - 1] < 0) return false;
        std::string_view w = word(s.begin);
        if (w == s.info.lemma || !w.ends_with('s')) return false;
        size_t next = s.end;
        return a_.free_word(next) && same_sentence(s.begin, next) &&
               contains(lex_.articles, word(next));
    }

    // Rule 4: "box 2", "Kiste A": a bare integer (not a measurement) or one capital letter.
    void find_identifiers() {
        for (Span& s : spans_) {
            size_t j = s.end;
            if (j >= a_.tokens.size() || a_.roles[j] != Role::free || !same_sentence(s.begin, j)) {
                continue;
            }
            const Token& t = a_.tokens[j];
            std::string_view w = word(j);
            bool number =
                t.kind == TokenKind::number && w.size() <= 4 && w.find_first_of(".,") == w.npos;
            bool letter = t.kind == TokenKind::word && t.end - t.begin == 1 && t.capitalised;
            if (!number && !letter) continue;
            s.id = j;
            a_.roles[j] = Role::name_part;
        }
    }

    // Rule 5: unknown nouns introduced by an article or a spatial preposition.
    void find_phrase_nouns() {
        for (size_t i = 0; i < a_.tokens.size(); ++i) {
            if (a_.free_word(i) && contains(lex_.articles, word(i))) phrase_noun(i + 1);
        }
        for (const KeywordHit& hit : a_.keywords) {
            if (hit.kind == RelationKind::spatial) phrase_noun(hit.end);
        }
    }

    void phrase_noun(size_t start) {
        std::vector<size_t> run;
        for (size_t j = start; j < a_.tokens.size() && run.size() < kMaxPhraseWords; ++j) {
            if (!same_sentence(start, j) || span_at_[j] >= 0) return;  // a known noun follows
            if (a_.tokens[j].kind == TokenKind::number && a_.roles[j] == Role::free) continue;
            if (!a_.free_word(j)) break;
            std::string_view w = word(j);
            if (!lex_.adjective(w) && is_function_word(w)) break;
            run.push_back(j);
        }
        std::optional<size_t> head = phrase_head(run);
        if (!head) return;
        std::string_view w = word(*head);
        if (span_at_[*head] >= 0 || w.size() > kMaxUnknownBytes || lex_.unit(w)) return;
        NounInfo info{std::string(w), EntityClass::unknown, true};
        if (const NounInfo* known = lookup_noun(a_, *head)) {
            info = *known;
        } else if (auto c = lex_.compound(w)) {
            info.cls = c->cls;
        }
        add_span({*head, *head + 1, std::move(info), false});
    }

    std::optional<size_t> phrase_head(const std::vector<size_t>& run) const {
        if (run.empty()) return std::nullopt;
        if (a_.language == Language::german && a_.capital_rule) {
            for (size_t j : run) {
                if (a_.tokens[j].capitalised && !a_.tokens[j].all_caps) return j;
            }
        }
        // The noun follows the last table adjective ("the quick brown fox jumps" -> fox).
        size_t from = 0;
        for (size_t k = 0; k < run.size(); ++k) {
            if (lex_.adjective(word(run[k]))) from = k + 1;
        }
        for (size_t k = from; k < run.size(); ++k) {
            if (!lex_.adjective_like(word(run[k]))) return run[k];
        }
        // Only adjective-like words: the last that may also be a noun ("the shiny factory").
        for (size_t k = run.size(); k-- > from;) {
            if (lex_.noun_like(word(run[k]))) return run[k];
        }
        return std::nullopt;
    }

    // Rule 6 and de-duplication: turns a span into a mention of an old or a new entity.
    void add_mention(const Span& s) {
        size_t begin = s.begin;
        std::vector<std::string> lemmas;
        while (begin > 0 && lemmas.size() < kMaxModifiers && a_.free_word(begin - 1) &&
               span_at_[begin - 1] < 0 && same_sentence(begin - 1, s.begin)) {
            auto lemma = lex_.modifier_lemma(word(begin - 1));
            if (!lemma) break;
            lemmas.insert(lemmas.begin(), *lemma);
            --begin;
        }
        size_t end = s.id != SIZE_MAX ? s.id + 1 : s.end;
        std::string name;
        for (size_t k = begin; k < end; ++k) {
            if (!name.empty()) name.push_back(' ');
            name.append(word(k));
        }
        std::string key;
        for (const std::string& l : lemmas) key.append(l).append(" ");
        key.append("|").append(s.info.lemma).append("#");
        if (s.id != SIZE_MAX) key.append(word(s.id));
        bool bare = lemmas.empty() && s.id == SIZE_MAX;
        Mention m{begin, end, a_.tokens[s.begin].sentence, find_entity(key, s.info.lemma, bare)};
        if (m.entity < 0) m.entity = new_entity(name, key, s.info);
        if (m.entity >= 0) recent_by_head_[s.info.lemma] = m.entity;
        a_.mentions.push_back(m);
    }

    int find_entity(const std::string& key, const std::string& head, bool bare) const {
        const auto& index = bare ? recent_by_head_ : by_key_;
        auto it = index.find(bare ? head : key);
        return it == index.end() ? -1 : it->second;
    }

    int new_entity(const std::string& name, const std::string& key, const NounInfo& info) {
        if (static_cast<int>(a_.entities.size()) >= max_) return -1;
        int id = static_cast<int>(a_.entities.size());
        a_.entities.push_back({name, key, info.lemma, info.cls});
        by_key_[key] = id;
        return id;
    }

    Analysis& a_;
    const LanguageLexicon& lex_;
    int max_;
    std::vector<Span> spans_;
    std::vector<int> span_at_;  // token -> index into spans_, or -1
    std::unordered_map<std::string, int> by_key_, recent_by_head_;
};

}  // namespace

const NounInfo* lookup_noun(const Analysis& a, size_t i) {
    std::string_view w = a.tokens.lower(i);
    if (w.size() > kMaxNounBytes) return nullptr;
    const LanguageLexicon& own = a.lex();
    if (contains(own.stop_words, w) || contains(own.articles, w)) return nullptr;
    if (const NounInfo* info = own.noun(w)) return info;
    // German texts borrow English nouns freely ("der Laptop"); an English text borrows a
    // German noun only where it is capitalised inside a sentence, so that "see" or "bad"
    // never turn into the German lake or bath.
    const Token& t = a.tokens[i];
    bool borrow = a.language == Language::german || (t.capitalised && !t.sentence_initial);
    if (!borrow) return nullptr;
    return lexicon(other(a.language)).noun(w);
}

void find_mentions(Analysis& a, int max_entities) {
    MentionFinder(a, max_entities).run();
}

}  // namespace gasm::text
