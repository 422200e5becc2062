#include "tests/support/test_support.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mono::test {

std::filesystem::path sharedDir() {
    if (const char* env = std::getenv("MONO_SHARED_DIR"); env && *env) return env;
    return MONO_DEFAULT_SHARED_DIR;
}

std::filesystem::path sourceDir() { return MONO_SOURCE_DIR; }

namespace {
struct TempRoot {
    std::filesystem::path path;
    ~TempRoot() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
};
}  // namespace

std::filesystem::path tempDir() {
    static TempRoot root;
    static int counter = 0;
    if (root.path.empty()) {
        std::string pattern = (std::filesystem::temp_directory_path() / "monoscope-test-XXXXXX").string();
        if (!mkdtemp(pattern.data())) qFatal("cannot create a temporary directory");
        root.path = pattern;
    }
    auto dir = root.path / std::to_string(counter++);
    std::filesystem::create_directories(dir);
    return dir;
}

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void writeFile(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace mono::test
