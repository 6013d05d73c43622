#include "serialtap/line_reader.hpp"

#include <cstdint>

namespace serialtap {

LineReader::LineReader(std::size_t buffer_size) : buffer_(buffer_size) {}

std::size_t LineReader::feed(std::string_view bytes) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    const std::size_t taken = buffer_.write(data, bytes.size());
    dropped_ += bytes.size() - taken;
    return taken;
}

std::optional<std::size_t> LineReader::find_terminator() const {
    const std::size_t n = buffer_.size();
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t c = buffer_.at(i);
        if (c == '\n' || c == '\r') {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<std::string> LineReader::next_line() {
    if (skip_lf_ && !buffer_.empty()) {
        if (buffer_.at(0) == '\n') {
            buffer_.discard(1);  // the second half of a "\r\n" split across chunks
        }
        skip_lf_ = false;
    }
    const std::optional<std::size_t> end = find_terminator();
    if (!end) {
        if (buffer_.free_space() == 0) {
            // A line longer than the whole buffer: it can never be completed.
            buffer_.discard(buffer_.size());
            ++overlong_;
        }
        return std::nullopt;
    }
    std::string line(*end, '\0');
    buffer_.read(reinterpret_cast<std::uint8_t*>(line.data()), *end);
    const std::uint8_t terminator = buffer_.at(0);
    buffer_.discard(1);
    if (terminator == '\r') {
        if (buffer_.empty()) {
            skip_lf_ = true;  // its "\n", if any, has not arrived yet
        } else if (buffer_.at(0) == '\n') {
            buffer_.discard(1);  // "\r\n" is one terminator
        }
    }
    return line;
}

}  // namespace serialtap
