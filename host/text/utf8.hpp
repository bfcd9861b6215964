// SPDX-License-Identifier: MIT
// The few UTF-8 facts the text front end needs: validation, decoding one code point, and a
// simple case fold. The fold maps upper-case letters of Latin-1, Latin Extended-A, Greek and
// Cyrillic (plus the capital sharp s) to lower case; every other code point, CJK and emoji
// included, passes through byte for byte, so names in any script come out as they went in.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gasm::text::utf8 {

inline constexpr size_t npos = std::string_view::npos;

// Byte offset of the first byte that does not start a well-formed sequence (truncated,
// overlong, surrogate, above U+10FFFF, stray continuation), or npos when `s` is valid.
size_t first_invalid(std::string_view s);

// The code point starting at s[pos] of valid UTF-8; advances pos past it.
char32_t decode(std::string_view s, size_t& pos);

void append(std::string& out, char32_t cp);

// The lower-case partner of cp for the scripts named above, else cp itself.
char32_t to_lower(char32_t cp);
inline bool is_upper(char32_t cp) {
    return to_lower(cp) != cp;
}

// `s` (valid UTF-8) with every code point folded by to_lower.
std::string lower(std::string_view s);

// Code points in valid UTF-8.
size_t length(std::string_view s);

}  // namespace gasm::text::utf8
