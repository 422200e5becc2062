// Writes a planted-dictionary problem as .npy files for `monoscope-cli
// train-sae`, and scores a trained SAE folder against it: the CLI-level check
// of docs/SAE.md, "Choosing the learning rate".
//
//   sae_planted_tool gen X.npy ATOMS.npy D ATOMS ROWS ACTIVE SEED
//   sae_planted_tool recover ATOMS.npy SAE_DIR

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/io/npy.h"
#include "core/sae/sae_io.h"
#include "tests/sae/planted_dictionary.h"

using namespace mono;

namespace {

Status writeMatrix(const std::string& path, const Matrix& m) {
    io::NpyArray a;
    a.dtype = io::DType::kF32;
    a.shape = {m.rows(), m.cols()};
    a.bytes.resize(static_cast<size_t>(m.size()) * sizeof(float));
    std::memcpy(a.bytes.data(), m.data(), a.bytes.size());
    return io::writeNpy(path, a);
}

int generate(char** argv) {
    test::PlantedSpec s;
    s.dIn = std::atoll(argv[4]);
    s.atoms = std::atoll(argv[5]);
    s.rows = std::atoll(argv[6]);
    s.active = std::atoi(argv[7]);
    s.seed = std::strtoull(argv[8], nullptr, 10);
    const test::PlantedDictionary p = test::makePlantedDictionary(s);
    for (auto [path, m] :
         {std::pair<const char*, const Matrix*>{argv[2], &p.x}, {argv[3], &p.atoms}}) {
        const Status st = writeMatrix(path, *m);
        if (!st.ok()) {
            std::fprintf(stderr, "%s\n", st.toString().c_str());
            return 1;
        }
    }
    return 0;
}

int recover(char** argv) {
    auto atoms = io::readNpy(argv[2]);
    if (!atoms.ok() || atoms->shape.size() != 2) {
        std::fprintf(stderr, "%s: not a 2-D f32 .npy\n", argv[2]);
        return 1;
    }
    Matrix a(atoms->shape[0], atoms->shape[1]);
    std::memcpy(a.data(), atoms->bytes.data(), static_cast<size_t>(a.size()) * sizeof(float));
    auto sae = sae::loadSae(argv[3], {});
    if (!sae.ok()) {
        std::fprintf(stderr, "%s\n", sae.status().toString().c_str());
        return 1;
    }
    std::printf("recovered %.2f%% of %lld planted directions (best decoder-row cosine >= 0.9)\n",
                100 * test::recoveredFraction(a, sae->wDec()), static_cast<long long>(a.rows()));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 9 && std::strcmp(argv[1], "gen") == 0) return generate(argv);
    if (argc == 4 && std::strcmp(argv[1], "recover") == 0) return recover(argv);
    std::fprintf(stderr,
                 "usage: sae_planted_tool gen X.npy ATOMS.npy D ATOMS ROWS ACTIVE SEED\n"
                 "       sae_planted_tool recover ATOMS.npy SAE_DIR\n");
    return 2;
}
