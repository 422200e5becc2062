#pragma once
// Helpers every test uses: where the shared test data lives, skipping cleanly
// when it is absent, and comparing float arrays with a stated tolerance.

#include <QtTest>

#include <filesystem>
#include <string>

namespace mono::test {

// ../shared beside the repository (or $MONO_SHARED_DIR).
std::filesystem::path sharedDir();
// The repository root, for committed test data under tests/data and tests/reference.
std::filesystem::path sourceDir();
// A fresh, empty temporary directory removed when the process exits.
std::filesystem::path tempDir();

// Reads a whole file into a string (binary); empty when missing.
std::string readFile(const std::filesystem::path& path);
void writeFile(const std::filesystem::path& path, const std::string& bytes);

}  // namespace mono::test

// Declares `var` = sharedDir()/relpath, or QSKIPs the test with a clear message.
#define MONO_REQUIRE_SHARED(var, relpath)                                                   \
    const std::filesystem::path var = ::mono::test::sharedDir() / (relpath);                \
    if (!std::filesystem::exists(var))                                                      \
    QSKIP(qPrintable(QStringLiteral("shared test data not found: %1 (set MONO_SHARED_DIR)") \
                         .arg(QString::fromStdString(var.string()))))

// QVERIFY for a mono::Status / Result, printing its message on failure.
#define MONO_VERIFY_OK(expr)                                                              \
    do {                                                                                  \
        auto mono_st_ = (expr);                                                           \
        QVERIFY2(mono_st_.ok(), qPrintable(QString::fromStdString(mono_st_.toString()))); \
    } while (0)
#define MONO_VERIFY_RESULT(expr)                                                                 \
    do {                                                                                         \
        const auto& mono_r_ = (expr);                                                            \
        QVERIFY2(mono_r_.ok(), qPrintable(QString::fromStdString(mono_r_.status().toString()))); \
    } while (0)
