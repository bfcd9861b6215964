// SPDX-License-Identifier: MIT
// NumPy .npz archives of float32 arrays keyed by state-dict name: the format PyTorch users
// hold their weights in (scripts/npz_torch.py converts to and from a torch state dict).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "host/params.hpp"

namespace gasm {

// The shape of every array of an archive, by key.
using ArrayShapes = std::map<std::string, std::vector<int64_t>>;

// Every array of the archive (stored or deflated members, float32/float64 little-endian,
// C order); the key is the member name without ".npy" (two members of one key are refused).
// The members' .npy headers are read first: `check_shapes`, when given, sees every key and
// shape before any array's data is inflated and throws to refuse them, so an archive that
// claims gigabytes is refused for what it claims, not after it has been unpacked. Throws
// WeightsError naming the file and the member.
std::map<std::string, Tensor> read_npz(
    const std::string& path, const std::function<void(const ArrayShapes&)>& check_shapes = {});

// Writes the tensors as an uncompressed .npz (what numpy.savez writes).
void write_npz(const std::string& path, const std::map<std::string, Tensor>& arrays);

// The configuration arrays of these shapes form (heads as given, since shapes do not tell it):
// every parameter present with its exact shape (a scalar as () or (1)), nothing extra. Throws
// WeightsError naming `source`.
ModelConfig config_from_shapes(const ArrayShapes& shapes, int64_t num_heads,
                               const std::string& source);

// Builds weights from an archive's arrays: config_from_shapes, then every value finite.
Weights weights_from_arrays(const std::map<std::string, Tensor>& arrays, int64_t num_heads,
                            const std::string& source);

std::map<std::string, Tensor> arrays_from_weights(const Weights& w);

}  // namespace gasm
