// SPDX-License-Identifier: MIT
// One pass of nlohmann's SAX parser that builds nothing and keeps, for each open object, the set
// of keys seen so far, and for each open array the index of the element being read; it stops at
// the first key seen twice or the first level past kMaxJsonDepth.
#include "io/json_keys.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "host/errors.hpp"

namespace gasm {

namespace {

using json = nlohmann::json;

class KeyChecker : public nlohmann::json_sax<json> {
  public:
    std::optional<JsonKeyProblem> found;

    bool null() override { return element(); }
    bool boolean(bool) override { return element(); }
    bool number_integer(number_integer_t) override { return element(); }
    bool number_unsigned(number_unsigned_t) override { return element(); }
    bool number_float(number_float_t, const string_t&) override { return element(); }
    bool string(string_t&) override { return element(); }
    bool binary(binary_t&) override { return element(); }
    bool start_object(std::size_t) override {
        element();
        frames_.push_back({true, {}, {}, -1});
        return within_depth();
    }
    bool key(string_t& k) override {
        Frame& f = frames_.back();
        f.key = k;
        if (!f.keys.insert(k).second) {
            found = JsonKeyProblem{path(), "the key appears twice in one object"};
            return false;  // stop: the first duplicate is the one reported
        }
        return true;
    }
    bool end_object() override {
        frames_.pop_back();
        return true;
    }
    bool start_array(std::size_t) override {
        element();
        frames_.push_back({false, {}, {}, -1});
        return within_depth();
    }
    bool end_array() override {
        frames_.pop_back();
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

  private:
    struct Frame {
        bool object;
        std::unordered_set<std::string> keys;
        std::string key;  // in an object: the key whose value is being read
        int64_t index;    // in an array: the element being read
    };

    // A value begins: in an array it is the next element.
    bool element() {
        if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
        return true;
    }

    bool within_depth() {
        if (static_cast<int>(frames_.size()) <= kMaxJsonDepth) return true;
        found = JsonKeyProblem{path(), "nested deeper than " + std::to_string(kMaxJsonDepth) +
                                           " levels (no input format needs more than 5)"};
        return false;
    }

    std::string path() const {
        std::string p;
        for (const Frame& f : frames_) {
            if (f.object) {
                p += (p.empty() ? "" : ".") + shown_in_message(f.key);
            } else {
                p += "[" + std::to_string(f.index) + "]";
            }
        }
        return p;
    }

    std::vector<Frame> frames_;
};

template <typename Input>
std::optional<JsonKeyProblem> find(Input&& input) {
    KeyChecker finder;
    try {
        json::sax_parse(std::forward<Input>(input), &finder);
    } catch (const json::exception&) {
        // Not valid JSON: the real parse says where.
    }
    return finder.found;
}

}  // namespace

std::optional<JsonKeyProblem> find_json_key_problem(std::istream& in) {
    return find(in);
}

std::optional<JsonKeyProblem> find_json_key_problem(const std::string& text) {
    return find(text);
}

std::optional<size_t> find_nul_byte(std::istream& in) {
    std::vector<char> block(size_t{1} << 20);
    size_t offset = 0;
    while (in) {
        in.read(block.data(), static_cast<std::streamsize>(block.size()));
        const auto got = static_cast<size_t>(in.gcount());
        if (const void* at = std::memchr(block.data(), 0, got))
            return offset + static_cast<size_t>(static_cast<const char*>(at) - block.data());
        offset += got;
    }
    return std::nullopt;
}

std::optional<size_t> find_nul_byte(const std::string& text) {
    const size_t at = text.find('\0');
    return at == std::string::npos ? std::nullopt : std::optional<size_t>(at);
}

}  // namespace gasm
