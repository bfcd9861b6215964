// SPDX-License-Identifier: MIT
// JSON allows a key twice in one object, and readers differ in which value they keep
// (nlohmann::json keeps the last, others the first or refuse). gasm refuses such input instead
// of guessing: a scene with "features" twice is a mistake of whoever wrote it.
#pragma once

#include <istream>
#include <optional>
#include <string>

namespace gasm {

// The place of the first key that appears twice in one object of the JSON text, written as a
// field path: `scenes[0].entities[2].name` (a top-level key is just its name). nullopt when
// every object's keys are distinct, and also when the text is not valid JSON: the caller's
// own parse reports that with its position. The stream is read to its end.
std::optional<std::string> first_duplicate_key(std::istream& in);
std::optional<std::string> first_duplicate_key(const std::string& text);

}  // namespace gasm
