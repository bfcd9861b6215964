// SPDX-License-Identifier: MIT
// UTF-8 validation, decoding and the case fold described in utf8.hpp.
#include "host/text/utf8.hpp"

namespace gasm::text::utf8 {

size_t first_invalid(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        char32_t cp = 0, min = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return i;  // a continuation byte or 0xF8..0xFF where a sequence should start
        }
        if (s.size() - i < len) return i;
        for (size_t k = 1; k < len; ++k) {
            auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (d & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += len;
    }
    return npos;
}

char32_t decode(std::string_view s, size_t& pos) {
    auto c = static_cast<unsigned char>(s[pos]);
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3F);
    pos += len;
    return cp;
}

void append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Latin Extended-A pairs an upper-case letter with the next code point, except in the runs
// U+0139..U+0148 and U+0179..U+017E, where the upper-case letter sits on the odd position.
static char32_t latin_extended_a_lower(char32_t cp) {
    bool odd_upper = (cp >= 0x0139 && cp <= 0x0148) || (cp >= 0x0179 && cp <= 0x017E);
    bool even_upper = (cp >= 0x0100 && cp <= 0x012F) || (cp >= 0x0132 && cp <= 0x0137) ||
                      (cp >= 0x014A && cp <= 0x0177);
    if (odd_upper && (cp % 2 == 1)) return cp + 1;
    if (even_upper && (cp % 2 == 0)) return cp + 1;
    if (cp == 0x0178) return 0x00FF;  // Ÿ
    return cp;
}

char32_t to_lower(char32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp < 0xC0) return cp;
    if (cp <= 0xDE) return cp == 0xD7 ? cp : cp + 32;  // À..Þ, except the multiplication sign
    if (cp >= 0x0100 && cp <= 0x017F) return latin_extended_a_lower(cp);
    if (cp >= 0x0391 && cp <= 0x03A9 && cp != 0x03A2) return cp + 32;  // Greek capitals
    if (cp >= 0x0410 && cp <= 0x042F) return cp + 32;                  // Cyrillic А..Я
    if (cp >= 0x0400 && cp <= 0x040F) return cp + 80;                  // Cyrillic Ѐ..Џ
    if (cp == 0x1E9E) return 0x00DF;                                   // capital sharp s
    return cp;
}

std::string lower(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t pos = 0;
    while (pos < s.size()) append(out, to_lower(decode(s, pos)));
    return out;
}

size_t length(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

}  // namespace gasm::text::utf8
