#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace serialtap {

// Fixed-capacity FIFO of bytes. All storage is allocated by the constructor.
class RingBuffer {
public:
    // A buffer that holds up to `capacity` bytes (capacity > 0).
    explicit RingBuffer(std::size_t capacity);

    std::size_t capacity() const { return capacity_; }
    // Bytes currently buffered.
    std::size_t size() const;
    // Bytes that can still be written.
    std::size_t free_space() const { return capacity_ - size(); }
    bool empty() const { return size() == 0; }

    // Appends up to `len` bytes (as many as fit); returns how many were appended.
    std::size_t write(const std::uint8_t* data, std::size_t len);
    // Copies up to `len` of the oldest bytes to `out` without removing them; returns the count.
    std::size_t peek(std::uint8_t* out, std::size_t len) const;
    // Removes up to `len` of the oldest bytes, copying them to `out`; returns the count.
    std::size_t read(std::uint8_t* out, std::size_t len);
    // Removes up to `len` of the oldest bytes; returns the count.
    std::size_t discard(std::size_t len);
    // The byte at `offset` from the oldest one (offset < size()).
    std::uint8_t at(std::size_t offset) const;
    // Offset from the oldest byte of the first occurrence of `byte`, if any.
    std::optional<std::size_t> find(std::uint8_t byte) const;

private:
    std::size_t capacity_;
    std::vector<std::uint8_t> slots_;
    std::size_t head_ = 0;  // index of the oldest byte
    std::size_t tail_ = 0;  // index where the next byte goes
};

}  // namespace serialtap
