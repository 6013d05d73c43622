#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "serialtap/ring_buffer.hpp"

namespace serialtap {

// Cuts a byte stream, received in chunks of any size, into lines. A line ends with "\r\n", "\n"
// or a lone "\r"; each terminator ends exactly one line, however the chunks split it.
class LineReader {
public:
    explicit LineReader(std::size_t buffer_size = 256);

    // Buffers `bytes`; returns how many fit. The rest is dropped and counted in dropped().
    std::size_t feed(std::string_view bytes);
    // The next complete line without its terminator, or nothing until more bytes arrive.
    std::optional<std::string> next_line();

    std::size_t buffered() const { return buffer_.size(); }
    std::size_t dropped() const { return dropped_; }
    std::size_t overlong() const { return overlong_; }

private:
    std::optional<std::size_t> find_terminator() const;

    RingBuffer buffer_;
    std::size_t dropped_ = 0;
    std::size_t overlong_ = 0;
    // The last line ended with "\r" at the end of the buffered bytes: a "\n" arriving next
    // belongs to that terminator.
    bool skip_lf_ = false;
};

}  // namespace serialtap
