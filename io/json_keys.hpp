// SPDX-License-Identifier: MIT
// Two things about a JSON text that nlohmann::json's parse lets through and gasm refuses:
// a key written twice in one object (readers differ in which value they keep; nlohmann::json
// keeps the last), and nesting far deeper than any input format needs (each level costs memory
// in the parse; 5 million nested arrays took 900 MB). Both are mistakes of whoever wrote the
// file, so the input is refused rather than guessed at.
#pragma once

#include <istream>
#include <optional>
#include <string>

namespace gasm {

// Deeper than this is refused: the scene format nests 5 levels (scenes, entities or relations).
inline constexpr int kMaxJsonDepth = 64;

struct JsonKeyProblem {
    std::string path;  // `scenes[0].entities[2].name`; a top-level key is just its name
    std::string what;  // "the key appears twice in one object", or the depth refusal
};

// The first such problem in the JSON text, or nullopt; also nullopt when the text is not valid
// JSON, which the caller's own parse reports with its position. Reads the stream to the end.
std::optional<JsonKeyProblem> find_json_key_problem(std::istream& in);
std::optional<JsonKeyProblem> find_json_key_problem(const std::string& text);

// The offset of the first NUL byte, or nullopt. nlohmann::json's parse takes a NUL for the end
// of the text and ignores whatever follows, so a text holding one is refused before the parse
// (a string writes the character as \u0000). Reads the stream to the end.
std::optional<size_t> find_nul_byte(std::istream& in);
std::optional<size_t> find_nul_byte(const std::string& text);

}  // namespace gasm
