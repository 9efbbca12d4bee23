// tegata/detail/thread_cache.hpp - a small per-thread cache of values made from shared objects:
// the one protocol behind hmac_context_cache (algorithms/hmac.hpp: a keyed EVP_MAC_CTX per key)
// and key_ring_cache (keys/key_ring.hpp: a ring's current snapshot per ring).
//
// Why per thread. Those values are either not thread-safe (an EVP_MAC_CTX) or costly to share (a
// reference count that every thread writes). A thread that keeps its own copy reads and writes
// only memory of its own on the hot path. The price is a protocol that is easy to get subtly
// wrong, with key material or another object's answer at stake, so it is written here once.
//
// Owners. A slot names the object its value was made from, its owner, by the owner's `id`: a
// detail::next_instance_id(), never 0 and never reused. Not by its address: a new object may be
// allocated where a destroyed one lived, and must never be handed the dead one's value. A slot
// also watches its owner through a weak_ptr, to learn that it died without keeping it alive. An
// owner has at most one slot per thread.
//
// Bound. kSlots slots per thread and instantiation. A miss takes the owner's own slot, else an
// empty one, else evicts the next unpinned slot in turn: a thread that cycles through more owners
// than that still works, re-making values as it goes.
//
// Release. A value may hold what its owner holds (a copy of a keyed context, a snapshot holding
// keys), so it must not outlive its owner for long. sweep() releases every unpinned slot whose
// owner has died, or whose value is no longer current (below). It runs on every miss (install,
// before choosing a slot, so that a dead owner's slot is reused before a live one is evicted), at
// least every kSweepInterval lookups (find), and the thread's cache releases everything when the
// thread exits. A thread that stops using the cache keeps what it holds until then.
//
// Currency. A Value may define `bool current_for(const Owner&) const noexcept`, false once the
// owner has changed since the value was made (a ring that published a newer snapshot); sweep then
// releases it although the owner lives (the sweep locks the weak_ptr to ask; a hit never does).
// Without it, a value is good for as long as its owner lives, and the sweep only asks the weak_ptr
// whether the owner expired, which reads its reference count without writing it (lock() writes a
// line that every thread using the owner shares).
//
// Pins. An operation whose value may run code that uses the cache again (a key in a snapshot may
// verify through another ring, or the same one) increments its slot's pins for as long as it uses
// the value, and decrements them after. A pinned slot is neither released, replaced nor evicted,
// so the reference stays valid. A cache whose values run no such code need not pin: a value it
// got is then valid until the thread's next call into the cache.
//
// Reentrancy of destructors. A value's destructor may run code that uses the cache (a key's
// destructor, which may be anyone's code). So a slot is emptied before the value it held is
// destroyed, install sweeps before it touches a slot (the destructors the sweep runs find the
// cache as if no install were under way), and install hands the value it replaces back to the
// caller, to destroy once it has pinned the new one.
//
// Thread exit. thread_local objects are destroyed in the reverse order of their construction, so
// the destructor of one made before the cache runs after the cache's and may still sign or
// verify. The thread's cache raises a flag when its destruction starts, before its slots release
// their values (whose destructors thus see it as gone too): from then on local() returns nullptr
// and callers work without a cache, with a value of their own for that one operation. The flag is
// a trivially destructible thread_local bool: it has no destructor, and stays readable until the
// thread ends. Only the thread's own cache raises it; a cache constructed elsewhere (a test's)
// does not.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace tegata::detail {

// An object that values are made from: named by an id unique in the process, never 0.
template <class Owner>
concept thread_cache_owner = requires(const Owner& owner) {
  { owner.id } -> std::convertible_to<std::uint64_t>;
};

// A value that can go stale while its owner lives, and says when it is still current.
template <class Value, class Owner>
concept owner_versioned_value = requires(const Value& value, const Owner& owner) {
  { value.current_for(owner) } noexcept -> std::same_as<bool>;
};

template <thread_cache_owner Owner, class Value, std::size_t Slots>
class thread_cache {
  // A slot is emptied by swapping and exchanging values, which must not throw midway.
  static_assert(std::is_nothrow_default_constructible_v<Value> &&
                std::is_nothrow_move_constructible_v<Value> &&
                std::is_nothrow_move_assignable_v<Value> && std::is_nothrow_swappable_v<Value>);
  static_assert(Slots > 0);

 public:
  static constexpr std::size_t kSlots = Slots;
  static constexpr std::uint32_t kSweepInterval = 1024;

  struct slot {
    std::uint64_t id = 0;  // the owner's id; 0: empty
    std::weak_ptr<const Owner> owner;
    Value value{};
    std::uint32_t pins = 0;  // operations on this thread using value now
  };

  thread_cache() = default;
  thread_cache(const thread_cache&) = delete;
  thread_cache& operator=(const thread_cache&) = delete;
  ~thread_cache() = default;

  // This thread's cache; nullptr once its destruction has started (the thread is exiting).
  static thread_cache* local() noexcept {
    if (destroyed()) return nullptr;
    // Only this instance raises the flag, and its destructor's body runs before the base's
    // members, the slots, are destroyed.
    struct thread_instance : thread_cache {
      thread_instance() = default;
      thread_instance(const thread_instance&) = delete;
      thread_instance& operator=(const thread_instance&) = delete;
      ~thread_instance() { destroyed() = true; }
    };
    thread_local thread_instance cache;
    return &cache;
  }

  // The slot of the owner with this id (never 0), or nullptr. Not pinned: the caller pins it if
  // it needs to. Counts a lookup, and every kSweepInterval-th lookup sweeps first.
  slot* find(std::uint64_t id) noexcept {
    if (++calls_ % kSweepInterval == 0) sweep();
    for (slot& s : slots_) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }

  // After a sweep, stores value, just made from owner, in owner's own slot, else an empty one,
  // else the next unpinned slot in turn. What that slot held is left in value, for the caller to
  // destroy (once it has pinned the slot, if it pins). Returns the slot, not pinned; nullptr, with
  // value untouched, when owner's own slot is pinned (an operation further up this thread's stack
  // uses it) or every slot is.
  template <class O>
    requires std::is_convertible_v<O*, const Owner*>
  slot* install(const std::shared_ptr<O>& owner, Value& value) noexcept {
    sweep();
    slot* target = nullptr;
    for (slot& s : slots_) {
      if (s.id == owner->id) target = &s;
    }
    if (target != nullptr && target->pins != 0) return nullptr;
    if (target == nullptr) target = choose_victim();
    if (target == nullptr) return nullptr;
    target->id = owner->id;
    target->owner = owner;
    using std::swap;
    swap(target->value, value);
    return target;
  }

  // Releases every unpinned slot whose owner has died or whose value is no longer current.
  void sweep() noexcept {
    for (slot& s : slots_) {
      if (s.id != 0 && s.pins == 0 && !live(s)) release(s);
    }
  }

 private:
  static bool& destroyed() noexcept {
    thread_local bool flag = false;  // trivially destructible: readable during thread exit
    return flag;
  }

  static bool live(const slot& s) noexcept {
    if constexpr (owner_versioned_value<Value, Owner>) {
      const std::shared_ptr<const Owner> owner = s.owner.lock();
      return owner && s.value.current_for(*owner);
    } else {
      return !s.owner.expired();
    }
  }

  // Empties s, then destroys what it held: a destructor that uses the cache finds it consistent.
  static void release(slot& s) noexcept {
    const Value dropped = std::exchange(s.value, Value{});
    s.id = 0;
    s.owner.reset();
  }

  // An empty slot, else the next unpinned one in turn, else nullptr.
  slot* choose_victim() noexcept {
    for (slot& s : slots_) {
      if (s.id == 0) return &s;
    }
    for (std::size_t tried = 0; tried < kSlots; ++tried) {
      slot& s = slots_[next_victim_];
      next_victim_ = (next_victim_ + 1) % kSlots;
      if (s.pins == 0) return &s;
    }
    return nullptr;
  }

  std::array<slot, kSlots> slots_{};
  std::size_t next_victim_ = 0;
  std::uint32_t calls_ = 0;
};

}  // namespace tegata::detail
