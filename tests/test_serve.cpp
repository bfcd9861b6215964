// SPDX-License-Identifier: MIT
// `gasm_gpu serve` from a real client over loopback (docs/service.md): the schemas of every
// endpoint, the answers against `gasm_gpu run`, each refusal's status and JSON error, many
// clients at once, a client that trickles its body, and the stop on SIGTERM that lets a request
// in flight finish. Each test starts its own server with a small model and kills it at the end;
// all traffic goes to 127.0.0.1 and every wait is bounded.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <regex>
#include <thread>

#include "tests/serve/serve_harness.hpp"
#include "tests/test_support.hpp"

namespace gasm::testing::serve {
namespace {

using nlohmann::json;

constexpr const char* kSentence = "The robot arm is on the table next to the red box";

// Starts a server and fails the test with its log when it does not come up.
#define START_SERVER(name, ...)      \
    ServerProcess name{__VA_ARGS__}; \
    ASSERT_GT(name.port(), 0) << "gasm_gpu serve did not start listening; its log:\n" << name.log()

// The fields every answer carries: the device and the weights' digest, in the body and headers.
void expect_stamped(const HttpReply& r) {
    const json j = r.json();
    ASSERT_TRUE(j.is_object()) << "not a JSON object: " << r.body;
    EXPECT_TRUE(j.contains("device") && j["device"].is_string()) << r.body;
    ASSERT_TRUE(j.contains("weights")) << r.body;
    const std::string digest = j["weights"].value("content_sha256", "");
    EXPECT_TRUE(std::regex_match(digest, std::regex("[0-9a-f]{64}"))) << r.body;
    EXPECT_EQ(r.header("x-gasm-weights-sha256"), digest);
    EXPECT_EQ(r.header("x-gasm-device"), j.value("device", ""));
}

void expect_refusal(const HttpReply& r, int status, const std::string& words) {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = r.json();
    ASSERT_TRUE(j.is_object() && j.contains("error")) << "no JSON error: " << r.body;
    EXPECT_NE(j["error"].get<std::string>().find(words), std::string::npos)
        << "the error does not mention \"" << words << "\": " << j["error"];
    expect_stamped(r);
}

std::vector<std::string> entity_names(const json& scene) {
    std::vector<std::string> names;
    for (const auto& e : scene["entities"]) names.push_back(e["name"]);
    return names;
}

// Rounding differences between a scene run alone and inside a batch (BLAS blocks differ).
constexpr Tolerance kBatchRounding{1e-5, 1e-4};

std::vector<float> positions(const json& scene) {
    std::vector<float> xyz;
    for (const auto& e : scene["entities"])
        for (const auto& v : e["position"]) xyz.push_back(v.get<float>());
    return xyz;
}

json scene_of_features(int entities, int features) {
    json ents = json::array();
    for (int i = 0; i < entities; ++i) {
        json f = json::array();
        for (int c = 0; c < features; ++c) f.push_back(0.01 * ((i * 7 + c * 3) % 50));
        ents.push_back({{"name", "thing_" + std::to_string(i)}, {"features", f}});
    }
    return {{"entities", ents}};
}

TEST(Serve, HealthAndInfoDescribeTheService) {
    START_SERVER(server);
    const HttpReply h = http(server.port(), "GET", "/health");
    ASSERT_EQ(h.status, 200) << h.body;
    expect_stamped(h);
    const json health = h.json();
    EXPECT_EQ(health["status"], "ok");
    EXPECT_EQ(health["device"], "cpu");
    EXPECT_GE(health["uptime_seconds"].get<double>(), 0.0);
    EXPECT_EQ(h.header("content-type"), "application/json");

    const HttpReply i = http(server.port(), "GET", "/info");
    ASSERT_EQ(i.status, 200) << i.body;
    expect_stamped(i);
    const json info = i.json();
    EXPECT_EQ(info["model"]["feature_dim"], 48);
    EXPECT_EQ(info["model"]["hidden_dim"], 24);
    EXPECT_EQ(info["model"]["max_iterations"], 2);
    EXPECT_EQ(info["model"]["output_dim"], 3);
    const int64_t params = info["parameter_count"];
    EXPECT_GT(params, 0);
    EXPECT_EQ(info["weights"]["tensor_bytes"], params * 4);
    EXPECT_GT(info["weights"]["file_bytes"].get<int64_t>(), 0);
    EXPECT_EQ(info["limits"]["max_batch"], 64);
    EXPECT_EQ(info["weights"]["content_sha256"], health["weights"]["content_sha256"]);
}

TEST(Serve, ProcessAnswersWhatRunPrints) {
    START_SERVER(server);
    const HttpReply r = post(server.port(), "/process", {{"text", kSentence}});
    ASSERT_EQ(r.status, 200) << r.body;
    expect_stamped(r);
    const json got = r.json();
    ASSERT_EQ(got["scenes"].size(), 1u);
    const json& scene = got["scenes"][0];
    EXPECT_EQ(entity_names(scene), (std::vector<std::string>{"robot arm", "table", "red box"}));
    EXPECT_EQ(scene["curvature_evolution"].size(), scene["iterations"].get<size_t>());
    for (const auto& e : scene["entities"]) EXPECT_EQ(e["position"].size(), 3u);
    EXPECT_TRUE(got["timings"].contains("model_seconds"));

    // `run` on the same weights file gives the same scenes; only the timings differ.
    const CommandResult run = run_gasm({"run", "-q", "--device", "cpu", "--weights",
                                        server.dir().file("w.h5"), "--text", kSentence});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const json expected = json::parse(run.out);
    EXPECT_EQ(got["scenes"], expected["scenes"]);
    EXPECT_EQ(got["weights"]["content_sha256"], expected["weights"]["content_sha256"]);
}

TEST(Serve, ProcessTakesASceneWithFeatures) {
    START_SERVER(server);
    const HttpReply r = post(server.port(), "/process", scene_of_features(4, 48));
    ASSERT_EQ(r.status, 200) << r.body;
    expect_stamped(r);
    const json scene = r.json()["scenes"][0];
    EXPECT_EQ(entity_names(scene),
              (std::vector<std::string>{"thing_0", "thing_1", "thing_2", "thing_3"}));
}

TEST(Serve, BatchTakesTextsOrScenes) {
    START_SERVER(server);
    const json texts = {{"texts",
                         {kSentence, "A camera above the desk",
                          "Der Roboter steht "
                          "neben dem Tisch"}}};
    const HttpReply t = post(server.port(), "/batch", texts);
    ASSERT_EQ(t.status, 200) << t.body;
    expect_stamped(t);
    ASSERT_EQ(t.json()["scenes"].size(), 3u);
    // The batch's first scene is the one /process gives for the same text, up to the rounding
    // of matrix products over more rows.
    const HttpReply one = post(server.port(), "/process", {{"text", kSentence}});
    const json in_batch = t.json()["scenes"][0];
    const json alone = one.json()["scenes"][0];
    EXPECT_EQ(entity_names(in_batch), entity_names(alone));
    EXPECT_TRUE(all_close(positions(in_batch), positions(alone), kBatchRounding));

    const json scenes = {{"scenes", {scene_of_features(2, 48), scene_of_features(5, 48)}}};
    const HttpReply s = post(server.port(), "/batch", scenes);
    ASSERT_EQ(s.status, 200) << s.body;
    ASSERT_EQ(s.json()["scenes"].size(), 2u);
    EXPECT_EQ(s.json()["scenes"][1]["entities"].size(), 5u);
}

TEST(Serve, MalformedRequestsGet400) {
    START_SERVER(server);
    const int p = server.port();
    expect_refusal(http(p, "POST", "/process", "{\"text\": "), 400, "not valid JSON");
    expect_refusal(http(p, "POST", "/process", "[1, 2]"), 400, "JSON object");
    expect_refusal(http(p, "POST", "/process", ""), 400, "");
    expect_refusal(http(p, "POST", "/process", "{\"text\": \"a cup\", \"text\": \"a box\"}"), 400,
                   "'text': the key appears twice");
    expect_refusal(post(p, "/process", {{"txt", kSentence}}), 400, "expected");
    expect_refusal(post(p, "/process", {{"text", kSentence}, {"extra", 1}}), 400, "extra");
    expect_refusal(post(p, "/process", {{"text", 42}}), 400, "expected a string");
    expect_refusal(post(p, "/process", scene_of_features(2, 47)), 400, "47 values");
    expect_refusal(post(p, "/batch", {{"texts", json::array()}}), 400, "empty");
    expect_refusal(post(p, "/batch", {{"texts", kSentence}}), 400, "expected an array");
    expect_refusal(post(p, "/batch", {{"texts", {kSentence}}, {"scenes", json::array()}}), 400,
                   "expected");
}

// Heads that servers and proxies read in different ways (request smuggling) are refused, as is
// a body whose JSON parse would stop at a NUL byte and ignore the rest.
TEST(Serve, AmbiguousHeadsAndNulBytesGet400) {
    START_SERVER(server);
    const int p = server.port();
    auto raw = [p](const std::string& request) {
        const int fd = connect_loopback(p);
        if (fd < 0) return HttpReply{};
        send_all(fd, request);
        HttpReply r = read_reply(fd);
        ::close(fd);
        return r;
    };
    expect_refusal(http(p, "GET", "/health", "", "", "Host: 127.0.0.1\r\nHost: evil.example\r\n"),
                   400, "more than one Host");
    expect_refusal(raw("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"), 400,
                   "needs a Host header");
    EXPECT_EQ(raw("GET /health HTTP/1.0\r\n\r\n").status, 200) << "HTTP/1.0 may leave Host out";
    const std::string body = json{{"text", kSentence}}.dump();
    expect_refusal(http(p, "POST", "/process", body, "application/json", "Content-Length: 5\r\n"),
                   400, "more than one Content-Length");
    expect_refusal(
        http(p, "POST", "/process", body, "application/json", "Transfer-Encoding: chunked\r\n"),
        400, "both Content-Length and Transfer-Encoding");
    expect_refusal(http(p, "POST", "/process", body + std::string(1, '\0') + "garbage"), 400,
                   "a NUL byte");
    EXPECT_EQ(http(p, "POST", "/process", body).status, 200);
}

TEST(Serve, RefusedContentGets422) {
    START_SERVER(server);
    expect_refusal(post(server.port(), "/process", {{"text", "and so on, with it"}}), 422,
                   "no entity");
    json scene = scene_of_features(2, 48);
    scene["edges"] = {{0, 5}};
    expect_refusal(post(server.port(), "/process", scene), 422, "index 5");
}

TEST(Serve, OversizedRequestsGet413) {
    START_SERVER(server, {"--max-text", "200", "--max-batch", "4", "--max-scene-entities", "3"});
    const int p = server.port();
    // A body announced over the limit is refused before it is sent.
    const int fd = connect_loopback(p);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, request_head(p, "POST", "/process", 2 << 20, "application/json")));
    expect_refusal(read_reply(fd), 413, "over the limit");
    ::close(fd);
    // So is one whose client asks first (Expect: 100-continue), without a 100 first.
    const int fd2 = connect_loopback(p);
    ASSERT_GE(fd2, 0);
    ASSERT_TRUE(send_all(fd2, request_head(p, "POST", "/process", 2 << 20, "application/json",
                                           "Expect: 100-continue\r\n")));
    expect_refusal(read_reply(fd2), 413, "over the limit");
    ::close(fd2);

    expect_refusal(post(p, "/process", {{"text", std::string(201, 'a')}}), 413, "limit of 200");
    expect_refusal(post(p, "/batch", {{"texts", std::vector<std::string>(5, kSentence)}}), 413,
                   "batch limit of 4");
    expect_refusal(post(p, "/process", scene_of_features(4, 48)), 413, "limit of 3");
}

TEST(Serve, ChunkedBodyOverTheLimitGets413) {
    START_SERVER(server, {"--max-body", "2048"});
    const int p = server.port();
    const int fd = connect_loopback(p);
    ASSERT_GE(fd, 0);
    std::string head =
        "POST /process HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string chunk(3000, ' ');
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    ASSERT_TRUE(send_all(fd, head + size + chunk + "\r\n0\r\n\r\n"));
    expect_refusal(read_reply(fd), 413, "over the limit");
    ::close(fd);
}

TEST(Serve, UnknownPathsMethodsAndMediaTypes) {
    START_SERVER(server);
    const int p = server.port();
    expect_refusal(http(p, "GET", "/nope"), 404, "no such path");
    expect_refusal(http(p, "POST", "/v1/process", "{}"), 404, "no such path");
    const HttpReply get_process = http(p, "GET", "/process");
    expect_refusal(get_process, 405, "use POST");
    EXPECT_EQ(get_process.header("allow"), "POST");
    expect_refusal(http(p, "POST", "/health", "{}"), 405, "use GET");
    expect_refusal(http(p, "DELETE", "/info"), 405, "use GET");
    expect_refusal(http(p, "POST", "/process", "text=hello", "application/x-www-form-urlencoded"),
                   415, "application/json");
    // A page elsewhere that points its own name at 127.0.0.1 sends that name as Host.
    expect_refusal(http(p, "GET", "/health", "", "", "Host: evil.example\r\n"), 403, "loopback");
}

TEST(Serve, ServesThePageFromItsOwnBinary) {
    START_SERVER(server);
    const HttpReply page = http(server.port(), "GET", "/");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(page.body.find("<script src=\"app.js\">"), std::string::npos);
    EXPECT_NE(page.header("content-security-policy").find("default-src 'self'"), std::string::npos);
    // Nothing on the page is fetched from another host.
    EXPECT_EQ(page.body.find("http://"), std::string::npos);
    EXPECT_EQ(page.body.find("https://"), std::string::npos);
    const HttpReply js = http(server.port(), "GET", "/app.js");
    ASSERT_EQ(js.status, 200);
    EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
    EXPECT_GT(js.body.size(), 10000u);
    EXPECT_EQ(http(server.port(), "GET", "/app.css").status, 200);
}

TEST(Serve, ManyClientsAtOnceGetTheirOwnAnswers) {
    START_SERVER(server);
    const int p = server.port();
    const std::vector<std::string> texts = {kSentence, "A camera above the desk",
                                            "The drone flies over the car"};
    std::vector<json> expected;  // one at a time first
    for (const auto& t : texts) {
        const HttpReply r = post(p, "/process", {{"text", t}});
        ASSERT_EQ(r.status, 200) << r.body;
        expected.push_back(r.json()["scenes"]);
    }
    constexpr int kThreads = 16, kRequests = 10;
    std::atomic<int> ok{0}, wrong{0}, busy{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kThreads; ++c) {
        clients.emplace_back([&, c] {
            for (int k = 0; k < kRequests; ++k) {
                const size_t which = static_cast<size_t>(c + k) % texts.size();
                HttpReply r;
                for (int attempt = 0; attempt < 50; ++attempt) {  // a 503 says: try again
                    r = (k % 3 == 2) ? http(p, "GET", "/health")
                                     : post(p, "/process", {{"text", texts[which]}});
                    if (r.status != 503) break;
                    busy.fetch_add(1);
                    std::this_thread::sleep_for(20ms);
                }
                const bool right =
                    r.status == 200 && (k % 3 == 2 || r.json()["scenes"] == expected[which]);
                (right ? ok : wrong).fetch_add(1);
            }
        });
    }
    for (auto& t : clients) t.join();
    EXPECT_EQ(ok.load(), kThreads * kRequests)
        << wrong.load() << " wrong answers, " << busy.load() << " retried 503s; log:\n"
        << server.log();
    EXPECT_EQ(http(p, "GET", "/health").status, 200);
}

// Sends a request's head and then its body a byte every `gap` from another thread.
class Trickler {
  public:
    Trickler(int port, std::chrono::milliseconds gap) : fd_(connect_loopback(port, 10000ms)) {
        body_ = json{{"text", kSentence}}.dump();
        ok_ = fd_ >= 0 && send_all(fd_, request_head(port, "POST", "/process", body_.size(),
                                                     "application/json"));
        thread_ = std::thread([this, gap] {
            for (size_t i = 0; ok_ && i < body_.size() && !quit_; ++i) {
                if (!send_all(fd_, body_.substr(i, 1))) break;  // the server gave up on us
                std::this_thread::sleep_for(gap);
            }
            reply_ = read_reply(fd_);
            done_at_ = Clock::now();
        });
    }
    ~Trickler() {
        quit_ = true;
        join();
        if (fd_ >= 0) ::close(fd_);
    }
    bool started() const { return ok_; }
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    const HttpReply& reply() const { return reply_; }
    Clock::time_point done_at() const { return done_at_; }

  private:
    int fd_;
    std::string body_;
    bool ok_ = false;
    std::atomic<bool> quit_{false};
    HttpReply reply_;
    Clock::time_point done_at_{};
    std::thread thread_;
};

TEST(Serve, ASlowClientDoesNotHoldUpOthers) {
    START_SERVER(server, {"--body-timeout", "2"});
    const auto t0 = Clock::now();
    Trickler slow(server.port(), 100ms);  // about 6 s for the whole body, over the 2 s allowed
    ASSERT_TRUE(slow.started());
    std::this_thread::sleep_for(200ms);
    for (int i = 0; i < 8; ++i) {
        const auto s = Clock::now();
        const HttpReply h = http(server.port(), "GET", "/health");
        const double seconds = std::chrono::duration<double>(Clock::now() - s).count();
        EXPECT_EQ(h.status, 200);
        EXPECT_LT(seconds, 1.0) << "a /health took " << seconds << " s beside a slow client";
        std::this_thread::sleep_for(150ms);
    }
    slow.join();
    // The slow request itself was cut off at its body time limit (408), not served forever.
    const double cut = std::chrono::duration<double>(slow.done_at() - t0).count();
    EXPECT_LT(cut, 5.0);
    if (slow.reply().status != 0) expect_refusal(slow.reply(), 408, "longer than");
}

TEST(Serve, SigtermLetsTheRequestInFlightFinish) {
    START_SERVER(server);
    const int p = server.port();
    const std::string body = json{{"text", kSentence}}.dump();
    const int fd = connect_loopback(p, 20000ms);
    ASSERT_GE(fd, 0);
    // Half a request is in flight when the signal comes.
    ASSERT_TRUE(send_all(fd, request_head(p, "POST", "/process", body.size(), "application/json") +
                                 body.substr(0, 10)));
    std::this_thread::sleep_for(300ms);
    ::kill(server.pid(), SIGTERM);
    // New connections are refused once the accept loop has stopped.
    bool refused = false;
    for (int i = 0; i < 100 && !refused; ++i) {
        const int other = connect_loopback(p, 1000ms);
        refused = other < 0;
        if (other >= 0) ::close(other);
        if (!refused) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(refused) << "still accepting connections 2 s after SIGTERM";
    ASSERT_TRUE(send_all(fd, body.substr(10)));
    const HttpReply r = read_reply(fd);
    ::close(fd);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(entity_names(r.json()["scenes"][0]),
              (std::vector<std::string>{"robot arm", "table", "red box"}));
    EXPECT_EQ(server.wait_exit(20s), 0) << server.log();
}

TEST(Serve, SigtermAnswersEveryConnectionAlreadyAccepted) {
    START_SERVER(server);
    const int p = server.port();
    // More clients than workers, each with a scene that keeps the model busy for a while, so
    // that connections are still waiting for a worker when the signal comes.
    constexpr int kClients = 40;
    const json scene = scene_of_features(256, 48);
    std::atomic<int> connected{0}, answered{0}, unanswered{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&] {
            const int fd = connect_loopback(p, 5000ms);
            if (fd < 0) return;  // refused after the signal: allowed
            connected.fetch_add(1);
            const std::string body = scene.dump();
            HttpReply r;
            if (send_all(fd, request_head(p, "POST", "/process", body.size(), "application/json") +
                                 body))
                r = read_reply(fd);
            ::close(fd);
            (r.status == 200 || r.status == 503 ? answered : unanswered).fetch_add(1);
        });
    }
    // The signal comes as soon as most clients are connected, while the model still works
    // through their requests one at a time.
    for (int i = 0; i < 500 && connected.load() < kClients * 3 / 4; ++i)
        std::this_thread::sleep_for(10ms);
    ::kill(server.pid(), SIGTERM);
    for (auto& t : clients) t.join();
    EXPECT_GT(connected.load(), 16) << "too few clients got in before the signal to test this";
    EXPECT_EQ(unanswered.load(), 0) << answered.load() << " answered; log:\n" << server.log();
    EXPECT_EQ(server.wait_exit(30s), 0) << server.log();
}

// A connection whose handshake the kernel has completed but the accept loop not yet taken sits
// in the listen queue; shutting the listener down at that moment resets it although the client's
// connect() succeeded. Bursts of connections around the signal make that queue non-empty.
TEST(Serve, SigtermDuringABurstOfConnectionsResetsNoneThatGotIn) {
    START_SERVER(server);
    const int p = server.port();
    constexpr int kClients = 150;
    const std::string body = json{{"text", kSentence}}.dump();
    const std::string request =
        request_head(p, "POST", "/process", body.size(), "application/json") + body;
    std::atomic<bool> go{false};
    std::atomic<int> connected{0}, unanswered{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&] {
            while (!go.load()) std::this_thread::yield();
            const int fd = connect_loopback(p, 10000ms);
            if (fd < 0) return;  // refused after the signal: allowed
            connected.fetch_add(1);
            HttpReply r;
            if (send_all(fd, request)) r = read_reply(fd);
            ::close(fd);
            if (r.status != 200 && r.status != 503) unanswered.fetch_add(1);
        });
    }
    go = true;
    for (int i = 0; i < 2000 && connected.load() < kClients * 2 / 5; ++i)
        std::this_thread::sleep_for(1ms);
    ::kill(server.pid(), SIGTERM);
    for (auto& t : clients) t.join();
    EXPECT_EQ(unanswered.load(), 0) << connected.load() << " connected; log:\n" << server.log();
    EXPECT_EQ(server.wait_exit(30s), 0) << server.log();
}

// A client that connects and sends nothing is closed by httplib after the read timeout without
// an answer (it offers no hook before the first byte); the stop must not claim otherwise.
TEST(Serve, SigtermCountsSilentClientsInsteadOfClaimingAllWereAnswered) {
    START_SERVER(server, {"--read-timeout", "1"});
    std::vector<int> silent;
    for (int i = 0; i < 3; ++i) {
        const int fd = connect_loopback(server.port());
        ASSERT_GE(fd, 0);
        silent.push_back(fd);
    }
    std::this_thread::sleep_for(200ms);
    ::kill(server.pid(), SIGTERM);
    EXPECT_EQ(server.wait_exit(20s), 0) << server.log();
    for (int fd : silent) ::close(fd);
    EXPECT_NE(server.log().find("Stopped: 3 connection(s) closed while stopping without sending"),
              std::string::npos)
        << server.log();
    EXPECT_EQ(server.log().find("every request in flight was answered"), std::string::npos)
        << server.log();
}

TEST(Serve, SigtermGivesUpOnAClientThatNeverFinishesAfterTheDrainTime) {
    START_SERVER(server, {"--drain-timeout", "1", "--body-timeout", "60", "--read-timeout", "60"});
    Trickler slow(server.port(), 500ms);  // a body byte every 0.5 s: about 30 s in all
    ASSERT_TRUE(slow.started());
    std::this_thread::sleep_for(300ms);
    const auto t0 = Clock::now();
    ::kill(server.pid(), SIGTERM);
    EXPECT_EQ(server.wait_exit(20s), 0) << server.log();
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 10.0);
    EXPECT_NE(server.log().find("Drain time of 1 s is over"), std::string::npos) << server.log();
}

TEST(Serve, ANumberBeyondADoubleIsABadRequest) {
    START_SERVER(server);
    const int fd = connect_loopback(server.port());
    ASSERT_GE(fd, 0);
    const std::string body = R"({"text": "the robot", "x": 1e400})";
    ASSERT_TRUE(send_all(
        fd,
        request_head(server.port(), "POST", "/process", body.size(), "application/json") + body));
    expect_refusal(read_reply(fd), 400, "not valid JSON");
    ::close(fd);
}

TEST(Serve, APortFileIsNeverRenamedOverAFifo) {
    TempDir dir;
    const std::string fifo = dir.file("port");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const CommandResult r =
        run_gasm({"serve", "--port", "0", "--port-file", fifo, "--weights", dir.file("w.h5"),
                  "--device", "cpu", "--feature-dim", "48", "--hidden-dim", "24"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
    struct stat st {};
    ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1)
        << "the FIFO only: stopped before the weights";
}

TEST(Serve, SigintStopsAnIdleServerWithExitZero) {
    START_SERVER(server);
    EXPECT_EQ(server.stop(SIGINT), 0) << server.log();
}

TEST(Serve, RefusesANonLoopbackHostWithoutAllowRemote) {
    const CommandResult r = run_gasm({"serve", "--host", "0.0.0.0", "--port", "0"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--allow-remote"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace gasm::testing::serve
