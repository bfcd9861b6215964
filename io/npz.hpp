// SPDX-License-Identifier: MIT
// NumPy .npz archives of float32 arrays keyed by state-dict name: the format PyTorch users
// hold their weights in (scripts/npz_torch.py converts to and from a torch state dict).
#pragma once

#include <map>
#include <string>

#include "host/params.hpp"

namespace gasm {

// Every array of the archive (stored or deflated members, float32/float64 little-endian,
// C order); the key is the member name without ".npy". Throws WeightsError naming the file
// and the member.
std::map<std::string, Tensor> read_npz(const std::string& path);

// Writes the tensors as an uncompressed .npz (what numpy.savez writes).
void write_npz(const std::string& path, const std::map<std::string, Tensor>& arrays);

// Builds weights from an archive's arrays: configuration from the shapes (heads as given, since
// shapes do not tell it), every parameter present with its exact shape, nothing extra.
Weights weights_from_arrays(const std::map<std::string, Tensor>& arrays, int64_t num_heads,
                            const std::string& source);

std::map<std::string, Tensor> arrays_from_weights(const Weights& w);

}  // namespace gasm
