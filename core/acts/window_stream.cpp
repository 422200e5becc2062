#include "core/acts/window_stream.h"

namespace mono::acts {

Result<bool> WindowStream::nextToken(int32_t& token, int32_t& doc) {
    while (m_pos >= m_tokens.size()) {
        std::string text;
        MONO_ASSIGN_OR_RETURN(bool more, m_reader.next(text));
        if (!more) return false;
        m_tokens = m_tokenizer.encode(text, /*addBos=*/false, /*parseSpecial=*/false);
        if (m_tokens.empty()) continue;
        if (m_docIndex >= 0) m_tokens.insert(m_tokens.begin(), m_bos);
        ++m_docIndex;
        m_pos = 0;
    }
    token = m_tokens[m_pos++];
    doc = m_docIndex;
    return true;
}

Result<bool> WindowStream::next(Window& window) {
    window.tokens.assign(1, m_bos);
    window.docs.assign(1, -1);
    for (int i = 1; i < m_contextSize; ++i) {
        int32_t token = 0, doc = 0;
        MONO_ASSIGN_OR_RETURN(bool more, nextToken(token, doc));
        if (!more) return false;
        window.tokens.push_back(token);
        window.docs.push_back(doc);
    }
    return true;
}

}  // namespace mono::acts
