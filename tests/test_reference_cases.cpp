// SPDX-License-Identifier: MIT
// The cases computed by the public PyTorch GASM (../shared/reference): import weights.npz,
// run scenes.h5 from the command line and compare with expected.h5 within 1e-4. Also the
// import/export round trip: export gives back the same arrays, import of the export gives the
// same digest.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>

#include "io/h5util.hpp"
#include "io/npz.hpp"
#include "tests/test_support.hpp"

namespace gasm {
namespace {

using testing::run_gasm;
using testing::TempDir;

template <typename T>
std::vector<T> read_h5(const std::string& file, const std::string& name, hid_t type) {
    h5::Id f = h5::open_read(file);
    EXPECT_TRUE(f.valid()) << file;
    h5::Id ds(H5Dopen2(f.get(), name.c_str(), H5P_DEFAULT));
    EXPECT_TRUE(ds.valid()) << file << name;
    size_t n = 1;
    for (hsize_t d : h5::dims(ds.get())) n *= d;
    std::vector<T> v(n);
    H5Dread(ds.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    return v;
}

class ReferenceCase : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceCase, EngineMatchesPyTorchWithin1e4) {
    const std::string dir = std::string(GASM_SHARED_DIR) + "/reference/" + GetParam();
    if (!std::filesystem::exists(dir + "/weights.npz"))
        GTEST_SKIP() << "reference case not present at " << dir;
    TempDir tmp;
    const std::string w = tmp.file("w.h5"), out = tmp.file("out.h5");
    auto imp = run_gasm({"weights", "import", "--weights", w, "--from", dir + "/weights.npz"});
    ASSERT_EQ(imp.exit_code, 0) << imp.err;
    auto run = run_gasm(
        {"run", "--weights", w, "--input", dir + "/scenes.h5", "--output", out, "--device", "cpu"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::string exp = dir + "/expected.h5";
    EXPECT_TRUE(testing::all_close(read_h5<float>(out, "/positions", H5T_NATIVE_FLOAT),
                                   read_h5<float>(exp, "/positions", H5T_NATIVE_FLOAT), {1e-4, 0}));
    EXPECT_TRUE(testing::all_close(read_h5<float>(out, "/curvature", H5T_NATIVE_FLOAT),
                                   read_h5<float>(exp, "/curvature", H5T_NATIVE_FLOAT), {1e-4, 0}));
    EXPECT_EQ(read_h5<int32_t>(out, "/iterations", H5T_NATIVE_INT32),
              read_h5<int32_t>(exp, "/iterations", H5T_NATIVE_INT32));
    EXPECT_EQ(read_h5<uint8_t>(out, "/converged", H5T_NATIVE_UINT8),
              read_h5<uint8_t>(exp, "/converged", H5T_NATIVE_UINT8));
    EXPECT_EQ(read_h5<int64_t>(out, "/offsets", H5T_NATIVE_INT64),
              read_h5<int64_t>(exp, "/offsets", H5T_NATIVE_INT64));
}

TEST_P(ReferenceCase, ImportExportRoundTrip) {
    const std::string dir = std::string(GASM_SHARED_DIR) + "/reference/" + GetParam();
    if (!std::filesystem::exists(dir + "/weights.npz"))
        GTEST_SKIP() << "reference case not present at " << dir;
    TempDir tmp;
    const std::string w = tmp.file("w.h5"), npz = tmp.file("out.npz"), w2 = tmp.file("w2.h5");
    ASSERT_EQ(
        run_gasm({"weights", "import", "--weights", w, "--from", dir + "/weights.npz"}).exit_code,
        0);
    auto exp = run_gasm({"weights", "export", "--weights", w, "--to", npz});
    ASSERT_EQ(exp.exit_code, 0) << exp.err;
    auto original = read_npz(dir + "/weights.npz"), exported = read_npz(npz);
    ASSERT_EQ(original.size(), exported.size());
    for (const auto& [key, t] : original) {
        ASSERT_TRUE(exported.count(key)) << key;
        EXPECT_EQ(exported[key].data, t.data) << key;
    }
    auto a = run_gasm({"weights", "import", "--weights", w2, "--from", npz});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    // import prints "content_sha256 DIGEST PATH"; both imports must give the same digest.
    auto first = run_gasm({"weights", "status", "--json", "--weights", w});
    EXPECT_NE(first.out.find(a.out.substr(15, 64)), std::string::npos) << a.out << first.out;
    // Importing over an existing file needs --force.
    auto again = run_gasm({"weights", "import", "--weights", w2, "--from", npz});
    EXPECT_EQ(again.exit_code, 3) << again.err;
}

INSTANTIATE_TEST_SUITE_P(Shared, ReferenceCase, ::testing::Values("small", "default"));

TEST(Npz, ForeignArchivesAreRefused) {
    TempDir tmp;
    const std::string bad = tmp.file("bad.npz"), w = tmp.file("w.h5");
    std::map<std::string, Tensor> arrays;
    arrays["se3_attention.q_proj.weight"] = Tensor{{4, 8}, FloatBuffer(32, 0.5f)};
    write_npz(bad, arrays);
    auto r = run_gasm({"weights", "import", "--weights", w, "--from", bad});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("missing parameter"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(w));
    const std::string text = tmp.file("text.npz");
    testing::run_shell("echo hello > " + text);
    EXPECT_EQ(run_gasm({"weights", "import", "--weights", w, "--from", text}).exit_code, 3);
}

}  // namespace
}  // namespace gasm
