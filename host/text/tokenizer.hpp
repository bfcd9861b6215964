// SPDX-License-Identifier: MIT
// A single linear pass that cuts a text (valid UTF-8) into words, numbers and punctuation.
// Words keep their byte range in the original text and a case-folded copy in one shared
// buffer, so a megabyte of text costs one buffer and one small record per token. Sentence
// numbers are filled in later (analysis.cpp), because where a '.' ends a sentence depends on
// the language's abbreviations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gasm::text {

enum class TokenKind : uint8_t { word, number, punct };

struct Token {
    TokenKind kind = TokenKind::word;
    size_t begin = 0, end = 0;            // bytes of the original text
    size_t fold_begin = 0, fold_end = 0;  // bytes of TokenList::folded
    size_t sentence = 0;                  // filled by assign_sentences
    char32_t mark = 0;                    // punct: the code point ('\'' also for a clitic "'s")
    bool space_before = false;            // whitespace (or text start) right before the token
    bool newline_before = false;          // a line break between this token and the previous
    bool capitalised = false;             // word: first letter upper case
    bool all_caps = false;                // word: at least two letters, all upper case
    bool sentence_initial = false;        // first word or number of its sentence
};

struct TokenList {
    std::string folded;
    std::vector<Token> tokens;

    size_t size() const { return tokens.size(); }
    const Token& operator[](size_t i) const { return tokens[i]; }
    // The case-folded text of token i.
    std::string_view lower(size_t i) const {
        const Token& t = tokens[i];
        return std::string_view(folded).substr(t.fold_begin, t.fold_end - t.fold_begin);
    }
    bool is_word(size_t i) const { return i < tokens.size() && tokens[i].kind == TokenKind::word; }
    bool is_mark(size_t i, char32_t c) const {
        return i < tokens.size() && tokens[i].kind == TokenKind::punct && tokens[i].mark == c;
    }
};

// Cuts `text`, which must be valid UTF-8.
TokenList tokenize(std::string_view text);

// Code points that end a sentence when they stand as punctuation ('.', '!', '?', ';', and
// their CJK full-width forms).
bool is_sentence_mark(char32_t c);

}  // namespace gasm::text
