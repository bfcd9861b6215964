// SPDX-License-Identifier: MIT
// Which entities a measurement constrains (README.md, "Measurements" and "Angles").
//
// Distance: the second entity is the first mention after the measurement in its sentence.
// The first is the nearest mention before it, unless the measurement opens a detached phrase
// (after a comma, a bracket, a dash or "and"): then it is the first entity of the previous
// measurement of the sentence, or else the sentence's first mention, its subject. So "the
// lamp stands on the desk, 30 cm left of the monitor" constrains lamp-monitor, and "the robot
// is 2 m from the box and 3 m from the shelf" constrains robot-box and robot-shelf. "A and B
// are 2 m apart" and "the satellite orbits the planet at a distance of 400 km" (no mention
// after) constrain the two mentions before; a measurement before any mention ("2 m
// neben dem Tisch steht der Stuhl") constrains the first two after. Sizes ("a 2 m tall
// robot", "2 m long") constrain nothing.
//
// Angle: three distinct entities (arm i, vertex j, arm k) of the angle's sentence; see
// angle_triple. With fewer than three, no constraint.
#include <cmath>
#include <numbers>
#include <optional>

#include "host/text/analysis.hpp"

namespace gasm::text {
namespace {

constexpr size_t kNone = SIZE_MAX;
constexpr size_t kVertexMarkerReach = 8;  // tokens after an angle searched for "at the X"
constexpr size_t kArmSearch = 16;         // mentions searched for the two arms of rule a

// True when the tokens before the measurement, hedges skipped, are a comma, a bracket, a
// dash, a colon or a connector word: the measurement starts a detached phrase.
bool opens_detached_phrase(const Analysis& a, size_t begin) {
    const LanguageLexicon& lex = a.lex();
    size_t sentence = a.tokens[begin].sentence;
    for (size_t j = begin; j-- > 0;) {
        const Token& t = a.tokens[j];
        if (t.sentence != sentence) return false;
        std::string_view w = a.tokens.lower(j);
        if (t.kind == TokenKind::word) {
            if (contains(lex.hedges, w)) continue;
            return contains(lex.connectors, w);
        }
        if (t.kind != TokenKind::punct) return false;
        bool hedge_dot = t.mark == '.' && j > 0 && contains(lex.hedges, a.tokens.lower(j - 1));
        if (hedge_dot || t.mark == '~') continue;
        return t.mark == ',' || t.mark == '(' || t.mark == '-' || t.mark == 0x2013 ||
               t.mark == 0x2014 || t.mark == ':' || t.mark == '&';
    }
    return false;
}

class Pairing {
  public:
    explicit Pairing(const Analysis& a) : a_(a), m_(a.mentions) {}

    void run(std::vector<DistanceConstraint>& distance, std::vector<AngleConstraint>& angle) {
        size_t sentence = kNone;
        for (const Measurement& me : a_.measurements) {
            if (me.sentence != sentence) {
                sentence = me.sentence;
                prev_anchor_ = kNone;
            }
            if (me.attribute) continue;
            if (me.quantity == Quantity::length) {
                add_distance(me, distance);
            } else {
                add_angle(me, angle);
            }
        }
    }

  private:
    bool in(size_t k, size_t sentence) const { return k < m_.size() && m_[k].sentence == sentence; }
    int entity(size_t k) const { return m_[k].entity; }

    void add_distance(const Measurement& me, std::vector<DistanceConstraint>& out) {
        auto pair = distance_pair(me);
        if (!pair) return;
        int i = entity(pair->first), j = entity(pair->second);
        // An overflowing value (infinite) stays: the front end refuses it with the input limit.
        if (i < 0 || j < 0 || i == j || std::isnan(me.value) || me.value < 0) return;
        out.push_back({i, j, me.value});
    }

    std::optional<std::pair<size_t, size_t>> distance_pair(const Measurement& me) {
        size_t s = me.sentence;
        size_t after = a_.first_mention_from(me.end);
        size_t before = after > 0 && in(after - 1, s) ? after - 1 : kNone;
        if (me.apart || (me.distance_phrase && !in(after, s))) {
            if (before == kNone || before == 0 || !in(before - 1, s)) return std::nullopt;
            return std::pair{before - 1, before};
        }
        if (!in(after, s)) return std::nullopt;
        if (before == kNone) {
            if (!in(after + 1, s)) return std::nullopt;
            return std::pair{after, after + 1};
        }
        size_t anchor = before;
        if (opens_detached_phrase(a_, me.begin)) {
            anchor = prev_anchor_ != kNone ? prev_anchor_ : a_.first_mention_of_sentence(s);
        }
        prev_anchor_ = anchor;
        return std::pair{anchor, after};
    }

    void add_angle(const Measurement& me, std::vector<AngleConstraint>& out) const {
        if (!(me.value >= 0 && me.value <= std::numbers::pi)) return;  // not between two arms
        auto t = angle_triple(me);
        if (!t) return;
        int i = entity(t->arm1), j = entity(t->vertex), k = entity(t->arm2);
        if (i < 0 || j < 0 || k < 0 || i == j || j == k || i == k) return;
        out.push_back({i, j, k, me.value});
    }

    struct Triple {
        size_t arm1, vertex, arm2;
    };

    // Rules, first that applies (B: mentions before the angle, A: after, in its sentence):
    //   a. "at the X" within a few words after the angle: vertex X, arms the first two other
    //      entities of the sentence;
    //   b. |B| >= 1, |A| >= 2: vertex the last of B, arms the first two of A ("the arm forms
    //      a 90° angle between the base and the gripper");
    //   c. |B| >= 2, |A| == 1: vertex the last of B, arms the one before it and A's;
    //   d. |B| >= 3, |A| == 0: the last three of B as a list X, Y, Z: vertex Y ("the base, the
    //      arm and the gripper form a 90° angle");
    //   e. |B| == 0, |A| >= 3: the first three of A likewise.
    std::optional<Triple> angle_triple(const Measurement& me) const {
        size_t s = me.sentence;
        if (auto t = vertex_marker_triple(me)) return t;
        size_t a0 = a_.first_mention_from(me.end);
        size_t nb = 0, na = 0;
        while (nb < 3 && a0 >= nb + 1 && in(a0 - nb - 1, s)) ++nb;
        while (na < 3 && in(a0 + na, s)) ++na;
        if (nb >= 1 && na >= 2) return Triple{a0, a0 - 1, a0 + 1};
        if (nb >= 2 && na == 1) return Triple{a0 - 2, a0 - 1, a0};
        if (nb >= 3 && na == 0) return Triple{a0 - 3, a0 - 2, a0 - 1};
        if (nb == 0 && na >= 3) return Triple{a0, a0 + 1, a0 + 2};
        return std::nullopt;
    }

    // Rule a: the mention named by "at the X" shortly after the angle, or kNone.
    size_t marked_vertex(const Measurement& me) const {
        const LanguageLexicon& lex = a_.lex();
        size_t s = me.sentence;
        for (size_t j = me.end; j < me.end + kVertexMarkerReach && j < a_.tokens.size(); ++j) {
            if (a_.tokens[j].sentence != s) break;
            bool marker = a_.tokens.is_word(j) && contains(lex.vertex_markers, a_.tokens.lower(j));
            if (!marker) continue;
            size_t v = a_.first_mention_from(j + 1);
            if (in(v, s) && only_articles(j + 1, m_[v].begin)) return v;
        }
        return kNone;
    }

    std::optional<Triple> vertex_marker_triple(const Measurement& me) const {
        size_t v = marked_vertex(me);
        if (v == kNone) return std::nullopt;
        size_t first = a_.first_mention_of_sentence(me.sentence);
        std::vector<size_t> arms;
        for (size_t k = first; in(k, me.sentence) && arms.size() < 2 && k < first + kArmSearch;
             ++k) {
            if (entity(k) != entity(v)) arms.push_back(k);
        }
        if (arms.size() != 2) return std::nullopt;
        return Triple{arms[0], v, arms[1]};
    }

    bool only_articles(size_t from, size_t to) const {
        for (size_t j = from; j < to; ++j) {
            if (!a_.tokens.is_word(j) || !contains(a_.lex().articles, a_.tokens.lower(j))) {
                return false;
            }
        }
        return true;
    }

    const Analysis& a_;
    const std::vector<Mention>& m_;
    size_t prev_anchor_ = kNone;
};

}  // namespace

void add_constraints(const Analysis& a, std::vector<DistanceConstraint>& distance,
                     std::vector<AngleConstraint>& angle) {
    Pairing(a).run(distance, angle);
}

}  // namespace gasm::text
