#include "serialtap/ring_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace serialtap {

// One slot more than the capacity: head_ == tail_ must mean "empty", never "full".
RingBuffer::RingBuffer(std::size_t capacity) : capacity_(capacity), slots_(capacity + 1) {
    if (capacity == 0) {
        throw std::invalid_argument("RingBuffer capacity must be positive");
    }
}

std::size_t RingBuffer::size() const {
    return (tail_ + slots_.size() - head_) % slots_.size();
}

std::size_t RingBuffer::write(const std::uint8_t* data, std::size_t len) {
    const std::size_t n = std::min(len, free_space());
    const std::size_t first = std::min(n, slots_.size() - tail_);
    std::memcpy(slots_.data() + tail_, data, first);
    std::memcpy(slots_.data(), data + first, n - first);
    tail_ = (tail_ + n) % slots_.size();
    return n;
}

std::size_t RingBuffer::peek(std::uint8_t* out, std::size_t len) const {
    const std::size_t n = std::min(len, size());
    const std::size_t first = std::min(n, slots_.size() - head_);
    std::memcpy(out, slots_.data() + head_, first);
    std::memcpy(out + first, slots_.data(), n - first);
    return n;
}

std::size_t RingBuffer::read(std::uint8_t* out, std::size_t len) {
    return discard(peek(out, len));
}

std::size_t RingBuffer::discard(std::size_t len) {
    const std::size_t n = std::min(len, size());
    head_ = (head_ + n) % slots_.size();
    return n;
}

std::uint8_t RingBuffer::at(std::size_t offset) const {
    if (offset >= size()) {
        throw std::out_of_range("RingBuffer::at past the buffered bytes");
    }
    return slots_[(head_ + offset) % slots_.size()];
}

std::optional<std::size_t> RingBuffer::find(std::uint8_t byte) const {
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) {
        if (slots_[(head_ + i) % slots_.size()] == byte) {
            return i;
        }
    }
    return std::nullopt;
}

}  // namespace serialtap
