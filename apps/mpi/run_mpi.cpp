// SPDX-License-Identifier: MIT
// One rank of `mpirun -np P gasm_gpu run --input big.h5 --output out.h5` (built with MPI only).
//
// The job, in phases; after each, every rank learns every other's outcome (agree), so an error
// anywhere ends every rank with the same exit code and no output, never a hang:
// 1. Rank 0 decides whether weights will be generated (and where they live); if so, every rank
//    checks its own share of the input first, so that a bad input never writes weights.
// 2. Rank 0 runs the weight lifecycle while the others wait. They then load the saved file and
//    check its digest against rank 0's; where rank 0 could not save it, it broadcasts the
//    weights instead. Each rank takes the GPU of its local rank (auto or cuda) or its share of
//    the node's cores.
// 3. The chunks (chunk_bounds over the whole file, as a single process cuts them) are shared out
//    as contiguous ranges of about equal work (split_chunks). Every rank runs its own; the
//    others send each chunk's results to rank 0 as it finishes, and rank 0 writes them into the
//    one output file (ResultsH5Writer: results land at their scenes' place, in any order of
//    arrival, so the file is the single-process file byte for byte). Debian's HDF5 is the
//    serial build, so only rank 0 ever opens the output.
// 4. An error stops the job: a rank that fails tells rank 0, which tells every other rank at its
//    next chunk boundary; rank 0 removes its temporary file and every rank exits with the code.
#include <mpi.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <new>
#include <optional>
#include <thread>

#include "apps/progress.hpp"
#include "apps/run_stream.hpp"
#include "host/errors.hpp"
#include "host/generate.hpp"

namespace gasm::app {

namespace {

constexpr int kTagResult = 1;        // worker -> 0: one chunk's results
constexpr int kTagDone = 2;          // worker -> 0: no more results; its exit code
constexpr int kTagControl = 3;       // 0 -> worker, exactly once: the job's code and who failed
constexpr size_t kMaxInFlight = 16;  // chunk results a worker may have on the way to rank 0

// Ends a rank of a job that stopped with the job's exit code; the message was reported already
// (main prints nothing for an empty one).
class JobStopped : public Error {
  public:
    JobStopped(int code, const std::string& message)
        : Error(static_cast<ExitCode>(code), message) {}
};

struct Outcome {
    int code = 0;
    std::string message;
};

// What `step` throws, as an outcome (code 0 when it returns).
template <typename Step>
Outcome attempt(Step&& step) {
    try {
        step();
        return {};
    } catch (const Error& e) {
        return {static_cast<int>(e.code()), e.what()};
    } catch (const std::bad_alloc&) {
        return {static_cast<int>(ExitCode::runtime), "out of memory"};
    } catch (const std::exception& e) {
        return {static_cast<int>(ExitCode::runtime), e.what()};
    }
}

// Waits for a request without spinning a core: ranks that wait share the node with ranks that
// compute.
void wait_gently(MPI_Request& request, MPI_Status* status = MPI_STATUS_IGNORE) {
    int done = 0;
    for (auto pause = std::chrono::microseconds(50);;
         pause = std::min(pause * 2, std::chrono::microseconds(2000))) {
        MPI_Test(&request, &done, status);
        if (done) return;
        std::this_thread::sleep_for(pause);
    }
}

// MPI from start to finish for one run. A rank that leaves with an exception the job has not
// agreed on (a bug) takes the whole job down with MPI_Abort rather than leave the others
// waiting.
class Mpi {
  public:
    Mpi() {
        int provided = 0;
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
        MPI_Comm node;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
        MPI_Comm_rank(node, &local_rank_);
        MPI_Comm_size(node, &local_size_);
        MPI_Comm_free(&node);
        uncaught_ = std::uncaught_exceptions();
    }
    ~Mpi() {
        if (std::uncaught_exceptions() > uncaught_ && !stopping_) {
            MPI_Abort(MPI_COMM_WORLD, static_cast<int>(ExitCode::runtime));
        }
        MPI_Finalize();
    }
    Mpi(const Mpi&) = delete;
    Mpi& operator=(const Mpi&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    int local_rank() const { return local_rank_; }
    int local_size() const { return local_size_; }
    std::string who() const { return rank_ == 0 ? "" : "rank " + std::to_string(rank_) + ": "; }

    // Every rank's outcome of a phase. When one failed, every rank throws JobStopped with the
    // code of the lowest failing rank, which alone reports its message.
    void agree(const Outcome& mine) {
        std::vector<int> codes(static_cast<size_t>(size_));
        MPI_Request request;
        MPI_Iallgather(&mine.code, 1, MPI_INT, codes.data(), 1, MPI_INT, MPI_COMM_WORLD, &request);
        wait_gently(request);
        for (int r = 0; r < size_; ++r) {
            if (codes[r] == 0) continue;
            if (mine.code != 0 && r != rank_) spdlog::debug("Also failed here: {}", mine.message);
            stop(codes[r], r == rank_ ? mine.message : "");
        }
    }

    // Ends every rank of the job (all call it): the rank whose error it is reports it first, so
    // that mpirun, which stops what still runs once a rank has exited with an error, cannot cut
    // the report short.
    [[noreturn]] void stop(int code, const std::string& message) {
        if (!message.empty()) {
            std::fprintf(stderr, "gasm_gpu: error: %s%s\n", who().c_str(), message.c_str());
            std::fflush(stderr);
        }
        MPI_Request request;
        MPI_Ibarrier(MPI_COMM_WORLD, &request);
        wait_gently(request);
        stopping_ = true;
        throw JobStopped(code, "");
    }

    // Rank 0's value of a string or of plain numbers on every rank.
    void broadcast(std::string& s) {
        int64_t n = static_cast<int64_t>(s.size());
        MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
        s.resize(static_cast<size_t>(n));
        if (n > 0) MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
    }
    void broadcast(int64_t* values, int count) {
        MPI_Bcast(values, count, MPI_INT64_T, 0, MPI_COMM_WORLD);
    }

  private:
    int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
    int uncaught_ = 0;
    bool stopping_ = false;
};

// The device of this rank: with auto or cuda, the GPU of its local rank (round robin over the
// node's GPUs); an explicit cuda:N or cpu as asked.
DeviceChoice device_for_rank(const std::string& request, int local_rank) {
    if (request == "auto" || request == "cuda") {
        const DeviceReport report = probe_devices();
        if (!report.devices.empty()) {
            const int index = local_rank % static_cast<int>(report.devices.size());
            DeviceChoice choice = choose_device("cuda:" + std::to_string(index));
            choice.why = request + ": local rank " + std::to_string(local_rank) + " " + choice.why;
            return choice;
        }
    }
    return choose_device(request);
}

// The backend options of this rank: without --threads, its share of the node's cores.
BackendOptions options_for_rank(const CommonOptions& o, int local_size) {
    BackendOptions b = backend_options(o);
    if (b.threads == 0) {
        const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        b.threads = std::max(1, cores / std::max(1, local_size));
    }
    return b;
}

// Rank 0's weights on every rank (when rank 0 could not save them for the others to load).
void broadcast_weights(Mpi& mpi, std::shared_ptr<Weights>& w) {
    // The configuration (F, H, D, heads, K), whether there is a seed, the seed.
    int64_t head[7] = {};
    if (mpi.rank() == 0) {
        const ModelConfig& c = w->config;
        const int64_t values[7] = {c.feature_dim,
                                   c.hidden_dim,
                                   c.output_dim,
                                   c.num_heads,
                                   c.max_iterations,
                                   w->seed.has_value() ? 1 : 0,
                                   static_cast<int64_t>(w->seed.value_or(0))};
        std::copy(std::begin(values), std::end(values), head);
    }
    mpi.broadcast(head, 7);
    std::string generator = mpi.rank() == 0 ? w->generator : "";
    mpi.broadcast(generator);
    if (mpi.rank() != 0) {
        ModelConfig c;
        c.feature_dim = head[0];
        c.hidden_dim = head[1];
        c.output_dim = head[2];
        c.num_heads = head[3];
        c.max_iterations = head[4];
        w = std::make_shared<Weights>(make_empty_weights(c));
        if (head[5]) w->seed = static_cast<uint64_t>(head[6]);
        w->generator = generator;
    }
    constexpr size_t kPiece = size_t{1} << 28;  // floats per MPI_Bcast (its count is an int)
    for (Tensor& t : w->tensors)
        for (size_t at = 0; at < t.data.size(); at += kPiece)
            MPI_Bcast(t.data.data() + at, static_cast<int>(std::min(kPiece, t.data.size() - at)),
                      MPI_FLOAT, 0, MPI_COMM_WORLD);
    if (mpi.rank() != 0) w->digest = content_sha256(*w);
}

// Phase 2 on a rank other than 0: the weights rank 0 settled on, onto this rank's device.
Engine join_engine(Mpi& mpi, const CommonOptions& o, bool saved, const std::string& path,
                   const std::string& digest, std::shared_ptr<Weights> broadcast) {
    Engine e;
    e.run_options.curvature = parse_curvature(o.curvature);
    if (saved) {
        e.weights = load_weights_file(path);
    } else {
        e.weights.weights = std::move(broadcast);
        e.weights.path = path;
        e.weights.digest = e.weights.weights->digest;
        e.weights.generated = true;
        e.weights.persisted = false;
    }
    if (e.weights.digest != digest) {
        const std::string what = "rank 0 has sha256 " + digest.substr(0, 12) + ", this rank read " +
                                 e.weights.digest.substr(0, 12);
        throw WeightsError("weight file " + path + " changed while the job started (" + what +
                           "); run the job again");
    }
    e.backend = make_backend(device_for_rank(device_request(o), mpi.local_rank()),
                             e.weights.weights, options_for_rank(o, mpi.local_size()));
    return e;
}

// One chunk's results as bytes: [first scene, scene count], positions, curvature,
// iterations, converged.
std::vector<char> pack(int64_t first, const BatchResult& r) {
    const int64_t head[2] = {first, r.num_scenes()};
    std::vector<char> out;
    auto add = [&out](const void* p, size_t bytes) {
        const auto* c = static_cast<const char*>(p);
        out.insert(out.end(), c, c + bytes);
    };
    add(head, sizeof head);
    add(r.positions.data(), r.positions.size() * sizeof(float));
    add(r.curvature.data(), r.curvature.size() * sizeof(float));
    add(r.iterations.data(), r.iterations.size() * sizeof(int32_t));
    add(r.converged.data(), r.converged.size());
    return out;
}

// The inverse of pack, for the scenes' offsets of the whole file. Returns the first scene.
int64_t unpack(const std::vector<char>& in, const std::vector<int64_t>& offsets, int64_t D,
               int64_t K, BatchResult& r) {
    int64_t head[2];
    if (in.size() < sizeof head) throw RuntimeFailure("a chunk's results arrived damaged");
    std::memcpy(head, in.data(), sizeof head);
    const int64_t first = head[0], S = head[1];
    if (first < 0 || S < 0 || first + S > static_cast<int64_t>(offsets.size()) - 1)
        throw RuntimeFailure("a chunk's results arrived damaged");
    std::vector<int64_t> local(offsets.begin() + first, offsets.begin() + first + S + 1);
    for (int64_t& o : local) o -= offsets[first];
    r.reset(local, D, K);
    const size_t want = sizeof head + r.positions.size() * sizeof(float) +
                        r.curvature.size() * sizeof(float) + r.iterations.size() * sizeof(int32_t) +
                        r.converged.size();
    if (in.size() != want) throw RuntimeFailure("a chunk's results arrived damaged");
    const char* p = in.data() + sizeof head;
    auto take = [&p](void* dst, size_t bytes) {
        std::memcpy(dst, p, bytes);
        p += bytes;
    };
    take(r.positions.data(), r.positions.size() * sizeof(float));
    take(r.curvature.data(), r.curvature.size() * sizeof(float));
    take(r.iterations.data(), r.iterations.size() * sizeof(int32_t));
    take(r.converged.data(), r.converged.size());
    return first;
}

// Phase 3 and 4 on a rank other than 0.
void work(Mpi& mpi, Engine& engine, const SceneH5Stream& in, const std::vector<int64_t>& bounds,
          int64_t c0, int64_t c1) {
    int control[2] = {0, 0};  // the job's code, the rank whose error it is
    MPI_Request control_request;
    MPI_Irecv(control, 2, MPI_INT, 0, kTagControl, MPI_COMM_WORLD, &control_request);
    struct Sending {
        std::vector<char> bytes;
        MPI_Request request;
    };
    std::deque<Sending> sending;
    Outcome mine;
    for (int64_t c = c0; c < c1; ++c) {
        int stopped = 0;
        MPI_Test(&control_request, &stopped, MPI_STATUS_IGNORE);
        if (stopped) break;
        std::vector<char> bytes;
        mine = attempt([&] { bytes = pack(bounds[c], stream::run_chunk(engine, in, bounds, c)); });
        if (mine.code != 0) break;
        sending.push_back({std::move(bytes), MPI_REQUEST_NULL});
        Sending& s = sending.back();
        MPI_Isend(s.bytes.data(), static_cast<int>(s.bytes.size()), MPI_BYTE, 0, kTagResult,
                  MPI_COMM_WORLD, &s.request);
        // Forget the sends that are through; wait for the oldest when too many are on the way.
        while (!sending.empty()) {
            int sent = 0;
            MPI_Test(&sending.front().request, &sent, MPI_STATUS_IGNORE);
            if (!sent && sending.size() <= kMaxInFlight) break;
            if (!sent) wait_gently(sending.front().request);
            sending.pop_front();
        }
    }
    for (Sending& s : sending) wait_gently(s.request);
    MPI_Send(&mine.code, 1, MPI_INT, 0, kTagDone, MPI_COMM_WORLD);
    wait_gently(control_request);
    if (control[0] != 0) {
        if (mine.code != 0 && control[1] != mpi.rank())
            spdlog::debug("Also failed here: {}", mine.message);
        mpi.stop(control[0], control[1] == mpi.rank() ? mine.message : "");
    }
}

// Phase 3 and 4 on rank 0: its own chunks, everyone's results into the file, the verdict.
void lead(Mpi& mpi, Engine& engine, const SceneH5Stream& in, const std::vector<int64_t>& bounds,
          int64_t c0, int64_t c1, const std::string& output, bool quiet) {
    const ModelConfig& c = engine.backend->config();
    const int workers = mpi.size() - 1;
    std::vector<bool> told(static_cast<size_t>(mpi.size()), false);  // sent its control message
    int remaining = workers;                                         // not yet done
    Outcome failure;  // the job's error, once there is one
    int failed_rank = -1;
    std::unique_ptr<ResultsH5Writer> out;
    Progress progress(in.num_scenes(), quiet);
    int64_t scenes_done = 0;

    auto tell = [&](int w, int code, int culprit) {
        const int control[2] = {code, culprit};
        MPI_Send(control, 2, MPI_INT, w, kTagControl, MPI_COMM_WORLD);
        told[w] = true;
    };
    auto fail = [&](const Outcome& o, int culprit) {
        if (failed_rank >= 0) return;
        failure = o;
        failed_rank = culprit;
        out.reset();  // removes the temporary file: nothing of a failed job stays
        for (int w = 1; w <= workers; ++w)
            if (!told[w]) tell(w, o.code, culprit);
    };
    // Takes the messages that have arrived (or, with `block`, all of them until every worker is
    // done).
    auto receive = [&](bool block) {
        std::vector<char> bytes;
        for (auto pause = std::chrono::microseconds(50); remaining > 0;) {
            int ready = 0;
            MPI_Status status;
            MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &ready, &status);
            if (!ready) {
                if (!block) return;
                std::this_thread::sleep_for(pause);
                pause = std::min(pause * 2, std::chrono::microseconds(2000));
                continue;
            }
            pause = std::chrono::microseconds(50);
            const int from = status.MPI_SOURCE;
            if (status.MPI_TAG == kTagDone) {
                int code = 0;
                MPI_Recv(&code, 1, MPI_INT, from, kTagDone, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                --remaining;
                if (code != 0) fail({code, ""}, from);
                continue;
            }
            int count = 0;
            MPI_Get_count(&status, MPI_BYTE, &count);
            bytes.resize(static_cast<size_t>(count));
            MPI_Recv(bytes.data(), count, MPI_BYTE, from, status.MPI_TAG, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            if (failed_rank >= 0 || !out) continue;
            const Outcome o = attempt([&] {
                BatchResult part;
                const int64_t first =
                    unpack(bytes, in.offsets(), c.output_dim, c.max_iterations, part);
                out->put(first, part);
                scenes_done += part.num_scenes();
            });
            if (o.code != 0) fail(o, 0);
            progress.update(scenes_done);
        }
    };

    if (Outcome o = attempt([&] { out = stream::open_output(output, in, engine); }); o.code)
        fail(o, 0);
    for (int64_t k = c0; k < c1 && failed_rank < 0; ++k) {
        receive(false);
        if (failed_rank >= 0) break;
        const Outcome o = attempt([&] {
            out->put(bounds[k], stream::run_chunk(engine, in, bounds, k));
            scenes_done += bounds[k + 1] - bounds[k];
        });
        if (o.code != 0) fail(o, 0);
        progress.update(scenes_done);
    }
    receive(true);
    if (failed_rank < 0) {
        progress.finish(in.total_entities());
        if (Outcome o = attempt([&] { out->commit(); }); o.code) fail(o, 0);
    }
    out.reset();  // removes the temporary file unless it was committed
    for (int w = 1; w <= workers; ++w)
        if (!told[w]) tell(w, 0, -1);
    if (failed_rank >= 0) mpi.stop(failure.code, failed_rank == 0 ? failure.message : "");
}

}  // namespace

void run_streamed_mpi(const CommonOptions& o, const std::string& input, const std::string& output) {
    Mpi mpi;
    const int rank = mpi.rank();
    const auto t0 = std::chrono::steady_clock::now();
    mpi.agree(attempt([&] { start_logging(o, rank); }));
    spdlog::info("MPI job of {} ranks", mpi.size());

    // Phase 1: rank 0's plan; a first start checks every rank's share of the input.
    int64_t plan[3] = {-1, 0, 0};  // F of weights about to be made (-1: a file is loaded), F, H
    std::string weights_path;
    Outcome mine;
    if (rank == 0)
        mine = attempt([&] {
            const WeightsRequest request = weights_request(o);
            weights_path = request.path;
            const ModelConfig c = request.config();
            if (const auto width = expected_feature_dim(request)) plan[0] = *width;
            plan[1] = c.feature_dim;
            plan[2] = c.hidden_dim;
        });
    mpi.agree(mine);
    mpi.broadcast(plan, 3);
    mpi.broadcast(weights_path);
    std::optional<SceneH5Stream> in;
    std::vector<int64_t> bounds, split;  // chunks of the whole file; each rank's first chunk
    auto share_out = [&](int64_t F, int64_t H) {
        bounds = chunk_bounds(in->offsets(), kRowsPerChunk);
        split = split_chunks(bounds, in->offsets(), F, H, mpi.size());
    };
    if (plan[0] >= 0)
        mpi.agree(attempt([&] {
            in.emplace(input, plan[0]);
            share_out(plan[1], plan[2]);
            stream::check_chunks(*in, bounds, split[rank], split[rank + 1]);
        }));

    // Phase 2: the weights. Rank 0 runs the lifecycle; the others wait here, then load.
    std::optional<Engine> engine;
    mine = {};
    if (rank == 0)
        mine = attempt([&] {
            engine.emplace(start_engine(o, device_for_rank(device_request(o), mpi.local_rank()),
                                        options_for_rank(o, mpi.local_size())));
        });
    mpi.agree(mine);
    int64_t saved = 0;
    std::string digest;
    if (rank == 0) {
        saved = engine->weights.persisted ? 1 : 0;
        digest = engine->weights.digest;
        weights_path = engine->weights.path;
    }
    mpi.broadcast(&saved, 1);
    mpi.broadcast(digest);
    mpi.broadcast(weights_path);
    std::shared_ptr<Weights> sent;
    if (!saved) {
        if (rank == 0) {
            spdlog::info("The weights were not saved: sending them to the other {} rank(s)",
                         mpi.size() - 1);
            sent = engine->weights.weights;
        }
        broadcast_weights(mpi, sent);
    }
    mine = {};
    if (rank != 0)
        mine = attempt(
            [&] { engine.emplace(join_engine(mpi, o, saved != 0, weights_path, digest, sent)); });
    mpi.agree(mine);

    // Phase 3: the chunks of the whole file, shared out by work.
    const ModelConfig& c = engine->backend->config();
    mpi.agree(attempt([&] {
        if (plan[0] >= 0 && c.feature_dim != plan[0])
            throw WeightsError("weight file " + weights_path + " changed while starting: " +
                               "its feature size is not the one the input was read with");
        if (!in) in.emplace(input, c.feature_dim);
        share_out(c.feature_dim, c.hidden_dim);
    }));
    // Each rank opened the input by its name: all must have opened one file, not some the old
    // and some a new one put in its place meanwhile (the output would mix the two).
    std::string opened = in->identity();
    mpi.broadcast(opened);
    mpi.agree(attempt([&] {
        if (in->identity() != opened)
            throw InputError(input + ": the file was replaced while the ranks opened it (rank " +
                             std::to_string(rank) +
                             " opened another file than rank 0); run again once it is complete");
    }));
    spdlog::info("Running {} scene(s), {} entities, {} chunk(s) over {} ranks", in->num_scenes(),
                 in->total_entities(), bounds.size() - 1, mpi.size());
    spdlog::debug("Rank {} runs chunks {} to {} on {}", rank, split[rank], split[rank + 1],
                  engine->backend->device_name());
    const auto t1 = std::chrono::steady_clock::now();
    if (rank == 0)
        lead(mpi, *engine, *in, bounds, split[0], split[1], output, o.quiet);
    else
        work(mpi, *engine, *in, bounds, split[rank], split[rank + 1]);
    const auto t2 = std::chrono::steady_clock::now();
    spdlog::info("Wrote results to {}", output);
    spdlog::info("Done in {:.3f} s (model {:.3f} s)",
                 std::chrono::duration<double>(t2 - t0).count(),
                 std::chrono::duration<double>(t2 - t1).count());
}

}  // namespace gasm::app
