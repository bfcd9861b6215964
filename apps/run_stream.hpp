// SPDX-License-Identifier: MIT
// `gasm_gpu run --input FILE.h5 --output FILE.h5`: the batch streamed through the engine. The
// input is read a chunk of whole scenes at a time (the chunks run_batch would cut from the
// whole batch, so results are the same) and each chunk's results go straight into the output
// file, so memory stays bounded by the chunk whatever the file's size. Under mpirun (a build
// with MPI) the chunks are shared out over the ranks and rank 0 writes the one output file.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "apps/app.hpp"
#include "apps/run_engine.hpp"
#include "io/scenes.hpp"

namespace gasm::app {

// One process: the whole job.
void run_streamed(const CommonOptions& o, const std::string& input, const std::string& output);

// How many processes an MPI launcher (mpirun, mpiexec, srun) started for this job, from the
// environment it sets; 1 for a plain start.
int launched_world_size();

#ifdef GASM_WITH_MPI
// One rank of an MPI job (MPI is started and finished here); see docs/design.md.
void run_streamed_mpi(const CommonOptions& o, const std::string& input, const std::string& output);
#endif

// Pieces both share.
namespace stream {

// Reads and checks every chunk of chunks [first_chunk, last_chunk) of `bounds`, keeping none:
// a first start checks its input whole before the weights are written.
void check_chunks(const SceneH5Stream& in, const std::vector<int64_t>& bounds, int64_t first_chunk,
                  int64_t last_chunk);

// The output file for this input, laid out (its names read from the input) but not yet filled.
std::unique_ptr<ResultsH5Writer> open_output(const std::string& output, const SceneH5Stream& in,
                                             const Engine& engine);

// The facts written beside the results.
RunFacts facts_of(const Engine& engine);

// Chunk `c` of `bounds` through the engine.
BatchResult run_chunk(Engine& engine, const SceneH5Stream& in, const std::vector<int64_t>& bounds,
                      int64_t c);

}  // namespace stream

}  // namespace gasm::app
