#pragma once
// Internal to core/model: typed reads from a config.json object that turn a
// missing key or a wrong type into a Status naming the file and the key, and
// the per-family parsers configFromHfJson dispatches to.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/base/result.h"
#include "core/model/config.h"

namespace mono::model {

// Typed reads from config.json that turn a missing key or a wrong type into a Status.
class JsonReader {
public:
    JsonReader(const nlohmann::json& j, const std::string& source) : m_j(j), m_source(source) {}

    Status intKey(const char* key, int* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end()) return Status::notFound(m_source + ": missing key '" + key + "'");
        if (!it->is_number_integer())
            return Status::corruption(m_source + ": key '" + key +
                                      "': expected an integer, found " + it->dump());
        *out = it->get<int>();
        return Status::success();
    }
    // Optional integer: keeps *out when absent or null.
    Status optInt(const char* key, int* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return Status::success();
        return intKey(key, out);
    }
    Status optFloat(const char* key, float* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return Status::success();
        if (!it->is_number())
            return Status::corruption(m_source + ": key '" + key + "': expected a number, found " +
                                      it->dump());
        *out = it->get<float>();
        return Status::success();
    }
    Status optBool(const char* key, bool* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return Status::success();
        if (!it->is_boolean())
            return Status::corruption(m_source + ": key '" + key +
                                      "': expected true/false, found " + it->dump());
        *out = it->get<bool>();
        return Status::success();
    }
    // bos/eos ids may be an integer or a list of integers (first wins).
    void optTokenId(const char* key, int32_t* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end()) return;
        if (it->is_number_integer()) *out = it->get<int32_t>();
        if (it->is_array() && !it->empty() && (*it)[0].is_number_integer())
            *out = (*it)[0].get<int32_t>();
    }
    Status optString(const char* key, std::string* out) const {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return Status::success();
        if (!it->is_string())
            return Status::corruption(m_source + ": key '" + key + "': expected a string, found " +
                                      it->dump());
        *out = it->get<std::string>();
        return Status::success();
    }

private:
    const nlohmann::json& m_j;
    const std::string& m_source;
};

// Family parsers (config_families.cpp). Each fills every field of its family
// from the keys transformers reads, with transformers' defaults for absent ones.
Result<ModelConfig> parseMistral(const nlohmann::json& j, const JsonReader& r,
                                 const std::string& source);
Result<ModelConfig> parseQwen(const nlohmann::json& j, const JsonReader& r,
                              const std::string& source, bool qwen3);
Result<ModelConfig> parseGemma(const nlohmann::json& j, const JsonReader& r,
                               const std::string& source, bool gemma3);
// model_type "gemma3": the text model described by its "text_config" object.
Result<ModelConfig> parseGemma3Multimodal(const nlohmann::json& j, const std::string& source);
Result<ModelConfig> parseGptNeox(const nlohmann::json& j, const JsonReader& r,
                                 const std::string& source);

// GGUF metadata of gemma2 and qwen2 (config_gguf.cpp); `arch` is general.architecture.
Result<ModelConfig> configFromGgufFamily(const io::GgufFile& file, const std::string& arch);

}  // namespace mono::model
