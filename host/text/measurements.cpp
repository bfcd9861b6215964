// SPDX-License-Identifier: MIT
// Finds measurements: a number followed by a unit ("30 cm", "1,5 m", "45°", "5'10\"",
// "90-degree"). Numbers follow the text's language: in German the comma is the decimal mark
// and a '.' before exactly three digits groups thousands; in English the other way round. A
// separator that cannot be a thousands group is read as a decimal mark either way ("1,5 m"
// in an English sentence is 1.5 m). Numbers with an impossible grouping (dates such as
// 12.03.2024) are not measurements. Which entities a measurement constrains is decided in
// constraints.cpp.
#include <cmath>
#include <cstdlib>
#include <optional>

#include "host/text/analysis.hpp"

namespace gasm::text {
namespace {

constexpr double kDegree = 3.14159265358979323846 / 180.0;
constexpr double kInch = 0.0254;
constexpr double kFoot = 0.3048;

struct Unit {
    double factor = 0;
    Quantity quantity = Quantity::length;
    size_t end = 0;  // one past the unit's last token
};

// Digit groups and the separators between them, e.g. "1.234,5" -> {1, 234, 5} {'.', ','}.
struct Groups {
    std::vector<std::string_view> digits;
    std::vector<char> seps;
};

Groups split_groups(std::string_view s) {
    Groups g;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
        if (i < s.size() && s[i] >= '0' && s[i] <= '9') continue;
        g.digits.push_back(s.substr(start, i - start));
        if (i < s.size()) g.seps.push_back(s[i]);
        start = i + 1;
    }
    return g;
}

// The value of a number token in the language's notation (infinite when it overflows: the
// front end refuses it as over the input limit), or nullopt for an impossible grouping.
std::optional<double> parse_number(std::string_view s, Language lang) {
    char decimal = lang == Language::german ? ',' : '.';
    // An exponent ("1e-5", "2,5E3"; the tokenizer keeps it in the number) scales the rest.
    std::string exponent;
    if (const size_t e = s.find_first_of("eE"); e != std::string_view::npos) {
        exponent = "e" + std::string(s.substr(e + 1));
        s = s.substr(0, e);
    }
    Groups g = split_groups(s);
    std::string plain(g.digits[0]);
    bool leading_ok = !g.digits[0].empty() && g.digits[0].size() <= 3;
    for (size_t k = 0; k < g.seps.size(); ++k) {
        std::string_view next = g.digits[k + 1];
        bool last = k + 1 == g.seps.size();
        bool group = g.seps[k] != decimal && next.size() == 3 && leading_ok;
        if (group) {
            plain.append(next);
        } else if (last) {
            plain.push_back('.');
            plain.append(next);
        } else {
            return std::nullopt;  // a decimal mark before another separator
        }
    }
    plain += exponent;
    return std::strtod(plain.c_str(), nullptr);
}

bool lower_is(const Analysis& a, size_t i, std::string_view w) {
    return a.tokens.is_word(i) && a.tokens.lower(i) == w;
}

// A glued mark after a number: ° (unless °C / °F / °K), ' and ′ for feet, " and ″ for inches.
std::optional<Unit> mark_unit(const Analysis& a, size_t j) {
    const Token& t = a.tokens[j];
    if (t.mark == 0x00B0) {
        bool glued_word = a.tokens.is_word(j + 1) && !a.tokens[j + 1].space_before;
        bool temperature = glued_word && (lower_is(a, j + 1, "c") || lower_is(a, j + 1, "f") ||
                                          lower_is(a, j + 1, "k"));
        if (temperature) return std::nullopt;
        return Unit{kDegree, Quantity::angle, j + 1};
    }
    if (t.space_before) return std::nullopt;
    if (t.mark == '"' || t.mark == 0x2033 || t.mark == 0x201D) {
        return Unit{kInch, Quantity::length, j + 1};
    }
    if (t.mark == '\'' || t.mark == 0x2032) return Unit{kFoot, Quantity::length, j + 1};
    return std::nullopt;
}

// "12 in" is inches unless a noun phrase follows ("3 in the box").
bool inch_word_is_preposition(const Analysis& a, size_t j) {
    size_t k = j + 1;
    if (!a.tokens.is_word(k) || a.tokens[k].sentence != a.tokens[j].sentence) return false;
    if (contains(a.lex().articles, a.tokens.lower(k))) return true;
    const NounInfo* noun = lookup_noun(a, k);
    return (noun != nullptr && noun->entity) || a.tokens[k].capitalised;
}

std::optional<Unit> word_unit(const Analysis& a, size_t j) {
    std::string_view w = a.tokens.lower(j);
    const UnitInfo* u = a.lex().unit(w);
    if (u == nullptr) return std::nullopt;
    if (a.tokens.is_mark(j + 1, '/')) return std::nullopt;  // a rate: km/h
    if (w == "in" && inch_word_is_preposition(a, j)) return std::nullopt;
    // German "Rad" is a wheel; the unit is written in lower case.
    if (w == "rad" && a.language == Language::german && a.tokens[j].capitalised) {
        return std::nullopt;
    }
    if (u->quantity == Quantity::angle &&
        (lower_is(a, j + 1, "celsius") || lower_is(a, j + 1, "fahrenheit") ||
         lower_is(a, j + 1, "kelvin"))) {
        return std::nullopt;
    }
    return Unit{u->factor, u->quantity, j + 1};
}

// The unit right after the number token at i: a word, a glued mark, or "-" and a word
// ("90-degree").
std::optional<Unit> unit_after(const Analysis& a, size_t i) {
    size_t j = i + 1;
    if (j >= a.tokens.size() || a.tokens[j].sentence != a.tokens[i].sentence) return std::nullopt;
    if (a.tokens.is_word(j)) return word_unit(a, j);
    if (a.tokens.is_mark(j, '-') && !a.tokens[j].space_before && a.tokens.is_word(j + 1) &&
        !a.tokens[j + 1].space_before) {
        return word_unit(a, j + 1);
    }
    if (a.tokens[j].kind == TokenKind::punct) return mark_unit(a, j);
    return std::nullopt;
}

// Length of the first of `phrases` that follows at `at`, or 0.
size_t followed_by_any(const Analysis& a, size_t at,
                       const std::vector<std::vector<std::string>>& phrases) {
    for (const auto& p : phrases) {
        if (a.starts_phrase(at, p)) return p.size();
    }
    return 0;
}

// Adds the inches of "5'10\"" (feet directly followed by an inch measurement) to m.
void absorb_inches(const Analysis& a, Measurement& m, double feet_factor) {
    size_t n = m.end;
    if (feet_factor != kFoot || n >= a.tokens.size()) return;
    if (a.tokens[n].kind != TokenKind::number || a.tokens[n].sentence != m.sentence) return;
    auto inches = parse_number(a.tokens.lower(n), a.language);
    auto unit = unit_after(a, n);
    if (!inches || !unit || unit->factor != kInch) return;
    m.value += *inches * kInch;
    m.end = unit->end;
}

// "at a distance of 400 km", "in einem Abstand von 2 m": a distance word among the few words
// (articles and hedges) right before the number.
bool after_distance_word(const Analysis& a, size_t begin) {
    const LanguageLexicon& lex = a.lex();
    constexpr size_t kReach = 4;
    for (size_t j = begin, k = 0; j-- > 0 && k < kReach; ++k) {
        if (!a.tokens.is_word(j) || a.tokens[j].sentence != a.tokens[begin].sentence) return false;
        std::string_view w = a.tokens.lower(j);
        if (contains(lex.distance_words, w)) return true;
        if (!contains(lex.hedges, w) && !contains(lex.articles, w)) return false;
    }
    return false;
}

}  // namespace

void find_measurements(Analysis& a) {
    const LanguageLexicon& lex = a.lex();
    for (size_t i = 0; i < a.tokens.size(); ++i) {
        if (a.tokens[i].kind != TokenKind::number || a.roles[i] != Role::free) continue;
        // The exponent of "1x10^3 m" is not the measurement: such a number is not read.
        if (i > 0 && a.tokens.is_mark(i - 1, U'^') && !a.tokens[i].space_before) continue;
        auto value = parse_number(a.tokens.lower(i), a.language);
        auto unit = unit_after(a, i);
        if (!value || !unit) continue;
        Measurement m;
        m.begin = i;
        m.end = unit->end;
        m.sentence = a.tokens[i].sentence;
        m.value = *value * unit->factor;
        m.quantity = unit->quantity;
        if (m.quantity == Quantity::length) absorb_inches(a, m, unit->factor);
        // "a 2 m tall robot", "2 m long": sizes. "a 45° angle" is still an angle.
        bool after_article = i > 0 && a.tokens.is_word(i - 1) &&
                             a.tokens[i - 1].sentence == m.sentence &&
                             contains(lex.articles, a.tokens.lower(i - 1));
        size_t size_words = followed_by_any(a, m.end, lex.size_phrases);
        if (m.quantity == Quantity::length) {
            m.attribute = after_article || size_words > 0;
            m.end += size_words;  // "tall" describes the number, not the noun after it
        }
        m.apart = followed_by_any(a, m.end, lex.apart_phrases) > 0;
        m.distance_phrase = after_distance_word(a, i);
        for (size_t k = m.begin; k < m.end; ++k) a.roles[k] = Role::measurement;
        a.measurements.push_back(m);
        i = m.end - 1;
    }
}

}  // namespace gasm::text
