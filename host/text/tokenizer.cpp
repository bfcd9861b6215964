// SPDX-License-Identifier: MIT
// The tokenizer: one forward pass, no backtracking beyond one code point of look-ahead.
//
// Character classes: ASCII letters and every non-ASCII code point that is not listed below as
// space or punctuation count as word characters, so CJK runs, emoji and superscripts stay in
// their words ("m²" is one word and therefore no unit). Digits start a number unless they
// continue a word ("ur5"). A '.' or ',' between digits stays inside the number ("1,5"), and so
// does an exponent right after it ("1e-5", "2.5E3"). A
// hyphen between word characters stays inside the word ("x-ray", "Roboter-Arm"). An
// apostrophe followed by letters after a word becomes one punctuation token ("robot's" ->
// "robot", "'s"), so the possessive neither joins nor hides the nouns around it.
#include "host/text/tokenizer.hpp"

#include "host/text/utf8.hpp"

namespace gasm::text {
namespace {

bool is_space(char32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0 ||
           c == 0x00A0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200B) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

bool is_newline(char32_t c) {
    return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029;
}

bool is_apostrophe(char32_t c) {
    return c == '\'' || c == 0x2019 || c == 0x02BC;
}

// Non-ASCII punctuation and symbols: Latin-1 signs, general punctuation (dashes, quotes,
// primes, ellipsis), CJK and full-width punctuation, arrows and mathematical operators.
bool is_unicode_punct(char32_t c) {
    return (c >= 0x00A1 && c <= 0x00B1) || c == 0x00B4 || c == 0x00B6 || c == 0x00B7 ||
           c == 0x00BB || c == 0x00BF || c == 0x00D7 || c == 0x00F7 ||
           (c >= 0x2010 && c <= 0x205E) || (c >= 0x2190 && c <= 0x22FF) ||
           (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011) ||
           (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20);
}

bool is_digit(char32_t c) {
    return c >= '0' && c <= '9';
}

bool is_word_char(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return !is_space(c) && !is_apostrophe(c) && !is_unicode_punct(c);
}

class Cutter {
  public:
    explicit Cutter(std::string_view text) : text_(text) {
        out_.folded.reserve(text.size());
        out_.tokens.reserve(text.size() / 4 + 1);
    }

    TokenList run() {
        while (pos_ < text_.size()) step();
        return std::move(out_);
    }

  private:
    char32_t peek(size_t at) const {
        if (at >= text_.size()) return 0xFFFFFFFF;
        return utf8::decode(text_, at);
    }
    size_t next_pos(size_t at) const {
        utf8::decode(text_, at);
        return at;
    }

    void step() {
        size_t start = pos_;
        char32_t c = peek(pos_);
        if (is_space(c)) {
            space_ = true;
            newline_ = newline_ || is_newline(c);
            pos_ = next_pos(pos_);
            return;
        }
        if (is_digit(c)) return number(start);
        if (is_word_char(c)) return word(start);
        if (is_apostrophe(c) && after_word() && is_word_char(peek(next_pos(pos_)))) {
            return clitic(start);
        }
        pos_ = next_pos(pos_);
        emit(TokenKind::punct, start, pos_, is_apostrophe(c) ? char32_t('\'') : c);
    }

    bool after_word() const {
        return !space_ && !out_.tokens.empty() && out_.tokens.back().kind == TokenKind::word;
    }

    void number(size_t start) {
        size_t p = start;
        while (true) {
            while (p < text_.size() && is_digit(peek(p))) ++p;
            bool sep = p + 1 < text_.size() && (text_[p] == '.' || text_[p] == ',');
            if (!sep || !is_digit(peek(p + 1))) break;
            ++p;
        }
        // Scientific notation: "1e-5", "2.5E3" (an 'e' with digits after it, a sign between).
        if (p < text_.size() && (text_[p] == 'e' || text_[p] == 'E')) {
            size_t q = p + 1;
            if (q < text_.size() && (text_[q] == '-' || text_[q] == '+')) ++q;
            if (q < text_.size() && is_digit(peek(q))) {
                while (q < text_.size() && is_digit(peek(q))) ++q;
                if (q >= text_.size() || !is_word_char(peek(q))) p = q;  // not "3em" or "2e5x"
            }
        }
        pos_ = p;
        emit(TokenKind::number, start, p, 0);
    }

    void word(size_t start) {
        size_t p = start;
        while (p < text_.size()) {
            char32_t c = peek(p);
            if (is_word_char(c) || is_digit(c)) {
                p = next_pos(p);
            } else if (c == '-' && p + 1 < text_.size() && is_word_char(peek(p + 1))) {
                ++p;  // an inner hyphen: "x-ray"
            } else {
                break;
            }
        }
        pos_ = p;
        emit(TokenKind::word, start, p, 0);
    }

    void clitic(size_t start) {
        size_t p = next_pos(start);
        while (p < text_.size() && is_word_char(peek(p))) p = next_pos(p);
        pos_ = p;
        emit(TokenKind::punct, start, p, '\'');
    }

    void emit(TokenKind kind, size_t begin, size_t end, char32_t mark) {
        Token t;
        t.kind = kind;
        t.begin = begin;
        t.end = end;
        t.mark = mark;
        t.space_before = space_ || out_.tokens.empty();
        t.newline_before = newline_;
        t.fold_begin = out_.folded.size();
        if (kind == TokenKind::word) {
            fold_word(t);
        } else {
            out_.folded.append(text_.substr(begin, end - begin));
        }
        t.fold_end = out_.folded.size();
        out_.tokens.push_back(t);
        space_ = newline_ = false;
    }

    // Appends the folded word and records its capitalisation.
    void fold_word(Token& t) {
        size_t p = t.begin, letters = 0, uppers = 0;
        bool first = true;
        while (p < t.end) {
            char32_t c = utf8::decode(text_, p);
            char32_t l = utf8::to_lower(c);
            bool letter = l != c || (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0x24F);
            letters += letter;
            uppers += l != c;
            if (first) t.capitalised = l != c;
            first = false;
            utf8::append(out_.folded, l);
        }
        t.all_caps = letters >= 2 && uppers == letters;
    }

    std::string_view text_;
    size_t pos_ = 0;
    bool space_ = true;
    bool newline_ = false;
    TokenList out_;
};

}  // namespace

TokenList tokenize(std::string_view text) {
    return Cutter(text).run();
}

bool is_sentence_mark(char32_t c) {
    return c == '.' || c == '!' || c == '?' || c == ';' || c == 0x3002 || c == 0xFF01 ||
           c == 0xFF1F || c == 0xFF1B || c == 0x2026;
}

}  // namespace gasm::text
