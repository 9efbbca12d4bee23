// tegata/detail/id_table.hpp - the compact hash table MemoryRevocationStore keeps its facts in.
//
// Laid out for bytes per entry, since a server may hold millions of them:
//  - Entries live in chunks that never move (16, 32, ..., 2048 entries, then 4096 at a time). An
//    entry holds its ids inline when they fit in 23 bytes (the SessionManager's ids have 22), its
//    expiry, its value, and two 32-bit fields: its place in the expiry heap and its hash; that is
//    24 bytes per id + 8 + the value + 8. A freed entry is reused by the next insertion: freed
//    entries form a list through their heap_position fields (unused while an entry is out of the
//    heap), so they cost no memory of their own.
//  - Entries are numbered, and a number stays the entry's from insert to erase, so a value can
//    link to other entries in 4 bytes instead of a pointer's 8 (the memory store's lists of
//    sessions do).
//  - The index is an open-addressing array of 8-byte slots (entry number, the entry's 32-bit
//    hash), probed linearly, at most 3/4 full, doubled when needed: 10.7 to 21.3 bytes per entry
//    as the table grows. Deletion shifts the following slots back instead of leaving tombstones,
//    so lookups never slow down as entries come and go.
//  - Expiry: a binary min-heap of entry numbers (4 bytes each, up to 8 with the vector's
//    doubling) ordered by their time. Each entry knows its heap position, so extending or erasing
//    it costs O(log n), and pruning removes exactly the expired entries, earliest first.
// Storage keeps its peak size: chunks, index and heap are not shrunk when entries go.
// Not synchronised: the owner locks. Keys are compared in full; the hash only places them.
#pragma once

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace tegata::detail {

// Never the number of an entry: a table numbers its entries from 0 and stays below it.
inline constexpr std::uint32_t no_entry = UINT32_MAX;

// An id of up to 23 bytes stored inline, a longer one on the heap: 24 bytes either way.
class stored_id {
 public:
  static constexpr std::size_t kInline = 23;

  stored_id() noexcept = default;
  stored_id(const stored_id&) = delete;
  stored_id& operator=(const stored_id&) = delete;
  // Moves take the bytes (and a heap block with them) and leave the source empty: a record's
  // ids move (current to previous) without allocating.
  stored_id(stored_id&& other) noexcept : tag_(other.tag_) {
    std::memcpy(bytes_, other.bytes_, kInline);
    other.tag_ = 0;
  }
  stored_id& operator=(stored_id&& other) noexcept {
    if (this != &other) {
      reset();
      std::memcpy(bytes_, other.bytes_, kInline);
      tag_ = other.tag_;
      other.tag_ = 0;
    }
    return *this;
  }
  ~stored_id() { reset(); }

  // Only on an empty id. Strong guarantee: if the heap copy cannot be made, it stays empty.
  void assign(std::string_view id) {
    if (id.size() <= kInline) {
      if (!id.empty()) std::memcpy(bytes_, id.data(), id.size());
      tag_ = static_cast<std::uint8_t>(id.size());
      return;
    }
    auto copy = std::make_unique_for_overwrite<char[]>(id.size());
    std::memcpy(copy.get(), id.data(), id.size());
    const heap_ref ref{copy.release(), id.size()};
    std::memcpy(bytes_, &ref, sizeof ref);
    tag_ = kHeap;
  }

  void reset() noexcept {
    if (tag_ == kHeap) delete[] ref().data;
    tag_ = 0;
  }

  std::string_view view() const noexcept {
    if (tag_ == kHeap) {
      const heap_ref r = ref();
      return {r.data, r.size};
    }
    return {bytes_, tag_};
  }

 private:
  struct heap_ref {
    char* data;
    std::size_t size;
  };
  static constexpr std::uint8_t kHeap = 0xFF;
  static_assert(sizeof(heap_ref) <= kInline);

  heap_ref ref() const noexcept {
    heap_ref r;
    std::memcpy(&r, bytes_, sizeof r);
    return r;
  }

  char bytes_[kInline];
  std::uint8_t tag_ = 0;  // the inline length, or kHeap
};

static_assert(sizeof(stored_id) == 24);

// Text of any length in one pointer: no heap block when empty, else one block holding its length
// (4 bytes) and its bytes. For values that are usually absent (a session's metadata).
class stored_text {
 public:
  // Only on an empty text. Strong guarantee: if the block cannot be made, it stays empty.
  void assign(std::string_view text) {
    if (text.empty()) return;
    if (text.size() > UINT32_MAX) throw std::length_error("tegata: stored_text too long");
    const auto size = static_cast<std::uint32_t>(text.size());
    auto block = std::make_unique_for_overwrite<char[]>(sizeof size + text.size());
    std::memcpy(block.get(), &size, sizeof size);
    std::memcpy(block.get() + sizeof size, text.data(), text.size());
    block_ = std::move(block);
  }
  void reset() noexcept { block_.reset(); }
  std::string_view view() const noexcept {
    if (!block_) return {};
    std::uint32_t size = 0;
    std::memcpy(&size, block_.get(), sizeof size);
    return {block_.get() + sizeof size, size};
  }

 private:
  std::unique_ptr<char[]> block_;
};

// A table of entries keyed by Ids ids (1, or 2 for a pair such as a family's refresh token),
// each with a Value and a time after which it no longer matters.
template <std::size_t Ids, class Value>
class expiring_table {
 public:
  using key_type = std::array<std::string_view, Ids>;

  struct entry {
    std::array<stored_id, Ids> ids;
    std::chrono::sys_seconds until{};
    [[no_unique_address]] Value value{};
    std::uint32_t heap_position = 0;
    std::uint32_t hash = 0;
  };

  expiring_table() = default;
  expiring_table(const expiring_table&) = delete;
  expiring_table& operator=(const expiring_table&) = delete;

  std::size_t size() const noexcept { return size_; }

  // Entries by number, for links between entries that are smaller than pointers: a number is
  // fixed from insert to erase, since entries never move.
  entry& operator[](std::uint32_t number) noexcept { return at(number); }
  const entry& operator[](std::uint32_t number) const noexcept { return at(number); }
  // The number of an entry of this table (one probe of the index).
  std::uint32_t number_of(const entry& e) const noexcept { return slots_[slot_of(e)].entry - 1; }

  entry* find(std::uint32_t hash, const key_type& key) noexcept {
    return const_cast<entry*>(std::as_const(*this).find(hash, key));
  }
  const entry* find(std::uint32_t hash, const key_type& key) const noexcept {
    if (size_ == 0) return nullptr;
    for (std::uint32_t i = hash & mask_;; i = (i + 1) & mask_) {
      const slot s = slots_[i];
      if (s.entry == 0) return nullptr;
      if (s.hash == hash) {
        const entry& e = at(s.entry - 1);
        if (matches(e, key)) return &e;
      }
    }
  }

  // Adds an entry for a key the caller has just found absent. Strong guarantee: if an allocation
  // fails, the table is unchanged and std::bad_alloc propagates.
  entry& insert(std::uint32_t hash, const key_type& key, Value value,
                std::chrono::sys_seconds until) {
    make_room();
    const bool reused = free_ != no_entry;
    const std::uint32_t number = reused ? free_ : handed_out_;
    entry& e = at(number);
    try {
      for (std::size_t i = 0; i < Ids; ++i) e.ids[i].assign(key[i]);
    } catch (...) {
      for (auto& id : e.ids) id.reset();
      throw;  // nothing else has changed yet: the entry is still free (or never handed out)
    }
    if (reused) {
      free_ = e.heap_position;
    } else {
      ++handed_out_;
    }
    e.until = until;
    e.value = std::move(value);
    e.hash = hash;
    place(hash, number);
    heap_.push_back(number);  // capacity reserved by make_room
    e.heap_position = static_cast<std::uint32_t>(heap_.size() - 1);
    sift_up(e.heap_position);
    ++size_;
    return e;
  }

  // Keeps the entry at least until `until`; never shortens it.
  void extend(entry& e, std::chrono::sys_seconds until) noexcept {
    if (until <= e.until) return;
    e.until = until;
    sift_down(e.heap_position);
  }

  void erase(entry& e) noexcept {
    const std::uint32_t i = slot_of(e);
    const std::uint32_t number = slots_[i].entry - 1;
    unplace(i);
    heap_remove(e.heap_position);
    for (auto& id : e.ids) id.reset();
    e.value = Value{};
    e.heap_position = free_;  // out of the heap now: the field links the free list
    free_ = number;
    --size_;
  }

  // Sets the entry's time, earlier or later.
  void set_until(entry& e, std::chrono::sys_seconds until) noexcept {
    e.until = until;
    sift_down(e.heap_position);
    sift_up(e.heap_position);
  }

  // Drops every entry with until <= now; returns how many.
  std::size_t prune(std::chrono::sys_seconds now) noexcept {
    return prune(now, [](entry&) noexcept {});
  }
  // The same, calling before_erase(entry&) (noexcept) on each entry just before it goes.
  template <class BeforeErase>
  std::size_t prune(std::chrono::sys_seconds now, BeforeErase&& before_erase) noexcept {
    std::size_t dropped = 0;
    while (!heap_.empty() && at(heap_.front()).until <= now) {
      entry& e = at(heap_.front());
      before_erase(e);
      erase(e);
      ++dropped;
    }
    return dropped;
  }

 private:
  struct slot {
    std::uint32_t entry = 0;  // entry number + 1; 0 when the slot is empty
    std::uint32_t hash = 0;
  };

  // Chunk k holds 16 << k entries up to 2048, then 4096: small tables stay small, and a large
  // one wastes at most one chunk.
  static constexpr std::uint32_t kGrowingChunks = 8;  // 16 .. 2048
  static constexpr std::uint32_t kGrowingEntries = 16 * ((1u << kGrowingChunks) - 1);
  static constexpr std::uint32_t kLargeChunk = 4096;

  static constexpr std::uint32_t chunk_size(std::size_t k) noexcept {
    return k < kGrowingChunks ? 16u << k : kLargeChunk;
  }

  entry& at(std::uint32_t number) const noexcept {
    if (number < kGrowingEntries) {
      const auto k = static_cast<std::uint32_t>(std::bit_width((number >> 4) + 1) - 1);
      return chunks_[k][number - 16 * ((1u << k) - 1)];
    }
    const std::uint32_t beyond = number - kGrowingEntries;
    return chunks_[kGrowingChunks + beyond / kLargeChunk][beyond % kLargeChunk];
  }

  // The slot of an entry of this table.
  std::uint32_t slot_of(const entry& e) const noexcept {
    std::uint32_t i = e.hash & mask_;
    while (slots_[i].hash != e.hash || &at(slots_[i].entry - 1) != &e) i = (i + 1) & mask_;
    return i;
  }

  static bool matches(const entry& e, const key_type& key) noexcept {
    for (std::size_t i = 0; i < Ids; ++i) {
      if (e.ids[i].view() != key[i]) return false;
    }
    return true;
  }

  // Everything one more entry needs, allocated before anything changes.
  void make_room() {
    if ((size_ + 1) * 4 > capacity() * 3) rehash(capacity() == 0 ? 16 : 2 * capacity());
    if (heap_.size() == heap_.capacity()) heap_.reserve(heap_.empty() ? 16 : 2 * heap_.size());
    if (free_ == no_entry && handed_out_ == allocated_) {
      const std::uint32_t more = chunk_size(chunks_.size());
      chunks_.reserve(chunks_.size() + 1);
      chunks_.push_back(std::make_unique<entry[]>(more));
      allocated_ += more;
    }
  }

  std::uint32_t capacity() const noexcept { return slots_ ? mask_ + 1 : 0; }

  void rehash(std::uint32_t new_capacity) {
    auto fresh = std::make_unique<slot[]>(new_capacity);
    const std::uint32_t old_capacity = capacity();
    std::swap(slots_, fresh);
    mask_ = new_capacity - 1;
    for (std::uint32_t i = 0; i < old_capacity; ++i) {
      if (fresh[i].entry != 0) place_slot(fresh[i]);
    }
  }

  void place(std::uint32_t hash, std::uint32_t number) noexcept { place_slot({number + 1, hash}); }

  void place_slot(slot s) noexcept {
    std::uint32_t i = s.hash & mask_;
    while (slots_[i].entry != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }

  // Empties slot i and moves back every following slot that would otherwise become unreachable.
  void unplace(std::uint32_t i) noexcept {
    slots_[i] = slot{};
    for (std::uint32_t j = (i + 1) & mask_; slots_[j].entry != 0; j = (j + 1) & mask_) {
      const std::uint32_t home = slots_[j].hash & mask_;
      // Slot j may move to i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      slots_[j] = slot{};
      i = j;
    }
  }

  std::chrono::sys_seconds time_at(std::size_t position) const noexcept {
    return at(heap_[position]).until;
  }

  void set_heap(std::size_t position, std::uint32_t number) noexcept {
    heap_[position] = number;
    at(number).heap_position = static_cast<std::uint32_t>(position);
  }

  void sift_up(std::size_t position) noexcept {
    const std::uint32_t number = heap_[position];
    const auto until = at(number).until;
    while (position > 0) {
      const std::size_t parent = (position - 1) / 2;
      if (time_at(parent) <= until) break;
      set_heap(position, heap_[parent]);
      position = parent;
    }
    set_heap(position, number);
  }

  void sift_down(std::size_t position) noexcept {
    const std::uint32_t number = heap_[position];
    const auto until = at(number).until;
    for (;;) {
      std::size_t child = 2 * position + 1;
      if (child >= heap_.size()) break;
      if (child + 1 < heap_.size() && time_at(child + 1) < time_at(child)) ++child;
      if (until <= time_at(child)) break;
      set_heap(position, heap_[child]);
      position = child;
    }
    set_heap(position, number);
  }

  void heap_remove(std::size_t position) noexcept {
    const std::uint32_t last = heap_.back();
    heap_.pop_back();
    if (position == heap_.size()) return;
    set_heap(position, last);
    sift_down(position);
    sift_up(at(last).heap_position);
  }

  std::unique_ptr<slot[]> slots_;
  std::uint32_t mask_ = 0;
  std::uint32_t size_ = 0;
  std::uint32_t handed_out_ = 0;  // entry numbers ever used: [0, handed_out_)
  std::uint32_t allocated_ = 0;   // entries in chunks_
  std::vector<std::unique_ptr<entry[]>> chunks_;
  // The most recently erased entry, reused first; each free entry's heap_position holds the
  // next one. Erasing thus never allocates.
  std::uint32_t free_ = no_entry;
  std::vector<std::uint32_t> heap_;  // entry numbers, earliest until first
};

}  // namespace tegata::detail
