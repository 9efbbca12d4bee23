// detail::thread_cache, the per-thread cache protocol under hmac_context_cache and key_ring_cache:
// values found by their owner's id only, a dead owner's slot reused (never handed to a new owner
// at the same address), eviction in turn that spares pinned slots, the sweep (dead owners, stale
// values, at least every kSweepInterval lookups), a slot emptied before its value is destroyed,
// and thread exit (values released, later thread_local destructors see no cache).
//
// Most cases use a cache of their own on the stack, which the tests may inspect and which leaves
// this thread's own cache (local()) alone; the thread-exit cases use local() in a new thread.
#include "tegata/detail/thread_cache.hpp"

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "tegata/detail/instance_id.hpp"

namespace {

using tegata::detail::next_instance_id;
using tegata::detail::thread_cache;

struct Owner {
  std::uint64_t id = next_instance_id();
};

// A value whose release a test can watch (the weak_ptr expires with the last copy).
using Value = std::shared_ptr<const int>;
using Cache = thread_cache<Owner, Value, 3>;

// An owner that changes, and a value that knows which state of its owner it was made from.
struct VersionedOwner {
  std::uint64_t id = next_instance_id();
  std::atomic<int> version{0};
};

struct VersionedValue {
  int version = 0;
  std::shared_ptr<const int> payload;
  bool current_for(const VersionedOwner& owner) const noexcept {
    return owner.version.load() == version;
  }
};
using VersionedCache = thread_cache<VersionedOwner, VersionedValue, 2>;

static_assert(tegata::detail::owner_versioned_value<VersionedValue, VersionedOwner>);
static_assert(!tegata::detail::owner_versioned_value<Value, Owner>);

// When destroyed, records whether its owner still had a slot in the cache: a destructor that
// uses the cache must find it consistent.
struct Probe;
using ProbeCache = thread_cache<Owner, std::shared_ptr<const Probe>, 2>;
struct Probe {
  ProbeCache* cache = nullptr;
  std::uint64_t owner = 0;
  int* destroyed = nullptr;
  bool* owner_had_slot = nullptr;
  Probe(ProbeCache* c, std::uint64_t o, int* d, bool* had) noexcept
      : cache(c), owner(o), destroyed(d), owner_had_slot(had) {}
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
  ~Probe() {
    ++*destroyed;
    *owner_had_slot = cache->find(owner) != nullptr;
  }
};

// When destroyed, records whether this thread still had its ExitCache: values that the thread's
// cache releases as the thread exits must see it gone.
struct ExitProbe;
using ExitCache = thread_cache<Owner, std::shared_ptr<const ExitProbe>, 2>;
struct ExitProbe {
  bool* cache_gone = nullptr;
  explicit ExitProbe(bool* gone) noexcept : cache_gone(gone) {}
  ExitProbe(const ExitProbe&) = delete;
  ExitProbe& operator=(const ExitProbe&) = delete;
  ~ExitProbe() { *cache_gone = ExitCache::local() == nullptr; }
};

Value watched(int n, std::weak_ptr<const int>& watch) {
  Value value = std::make_shared<const int>(n);
  watch = value;
  return value;
}

}  // namespace

TEST_CASE("thread_cache: a value is found by its owner's id, and only by it", "[thread_cache]") {
  Cache cache;
  const auto a = std::make_shared<const Owner>();
  const auto b = std::make_shared<const Owner>();
  CHECK(cache.find(a->id) == nullptr);

  Value first = std::make_shared<const int>(1);
  Cache::slot* slot = cache.install(a, first);
  REQUIRE(slot != nullptr);
  CHECK(first == nullptr);  // the slot was empty: nothing handed back
  CHECK(slot->pins == 0);   // install does not pin
  CHECK(cache.find(a->id) == slot);
  CHECK(*slot->value == 1);
  CHECK(cache.find(b->id) == nullptr);

  SECTION("a new value for the same owner takes its slot and hands the old one back") {
    Value second = std::make_shared<const int>(2);
    CHECK(cache.install(a, second) == slot);
    REQUIRE(second != nullptr);
    CHECK(*second == 1);
    CHECK(*slot->value == 2);
  }
  SECTION("a non-const owner is named the same way") {
    const auto c = std::make_shared<Owner>();
    Value value = std::make_shared<const int>(3);
    Cache::slot* other = cache.install(c, value);
    REQUIRE(other != nullptr);
    CHECK(other != slot);
    CHECK(cache.find(c->id) == other);
  }
}

TEST_CASE("thread_cache: a destroyed owner's slot is reused, and never matched by a new owner",
          "[thread_cache]") {
  Cache cache;
  // Separate allocations for the owners (not make_shared, whose block the slot's weak_ptr keeps),
  // so that a new owner is likely to get the address of a destroyed one.
  std::vector<std::shared_ptr<Owner>> owners;
  std::vector<std::weak_ptr<const int>> watches(Cache::kSlots);
  for (std::size_t i = 0; i < Cache::kSlots; ++i) {
    owners.emplace_back(new Owner);
    Value value = watched(static_cast<int>(i), watches[i]);
    REQUIRE(cache.install(owners[i], value) != nullptr);
  }
  const Owner* dead_address = owners[1].get();
  const std::uint64_t dead_id = owners[1]->id;
  owners[1].reset();
  CHECK_FALSE(watches[1].expired());  // released by the next sweep, not before

  const std::shared_ptr<Owner> next(new Owner);
  INFO("the new owner has the dead one's address: " << (next.get() == dead_address));
  CHECK(next->id != dead_id);
  CHECK(cache.find(next->id) == nullptr);

  std::weak_ptr<const int> next_watch;
  Value value = watched(9, next_watch);
  Cache::slot* slot = cache.install(next, value);
  REQUIRE(slot != nullptr);
  CHECK(value == nullptr);          // the dead owner's slot was swept empty, then reused
  CHECK(watches[1].expired());      // its value is gone
  CHECK_FALSE(watches[0].expired());  // no live owner was evicted
  CHECK_FALSE(watches[2].expired());
  CHECK(cache.find(dead_id) == nullptr);
  CHECK(cache.find(next->id) == slot);
  CHECK(*slot->value == 9);
}

TEST_CASE("thread_cache: eviction takes the slots in turn and never a pinned one",
          "[thread_cache]") {
  Cache cache;
  std::vector<std::shared_ptr<const Owner>> owners;
  std::vector<std::weak_ptr<const int>> watches(Cache::kSlots + 2);
  for (std::size_t i = 0; i < Cache::kSlots + 2; ++i) owners.push_back(std::make_shared<Owner>());
  for (std::size_t i = 0; i < Cache::kSlots; ++i) {
    Value value = watched(static_cast<int>(i), watches[i]);
    REQUIRE(cache.install(owners[i], value) != nullptr);
  }
  Cache::slot* pinned = cache.find(owners[0]->id);
  REQUIRE(pinned != nullptr);
  ++pinned->pins;

  // Every slot is taken by a live owner: the next one in turn is evicted, skipping the pinned.
  Value value = watched(10, watches[3]);
  Cache::slot* slot = cache.install(owners[3], value);
  REQUIRE(slot != nullptr);
  REQUIRE(value != nullptr);
  CHECK(*value == 1);  // owner 1's value, handed back for the caller to release
  value.reset();
  CHECK(watches[1].expired());
  CHECK(cache.find(owners[1]->id) == nullptr);
  CHECK(cache.find(owners[0]->id) == pinned);
  CHECK(cache.find(owners[2]->id) != nullptr);
  CHECK(cache.find(owners[3]->id) == slot);

  SECTION("an owner whose own slot is pinned gets no slot; its value is left alone") {
    Value again = std::make_shared<const int>(11);
    const int* before = again.get();
    CHECK(cache.install(owners[0], again) == nullptr);
    CHECK(again.get() == before);
    CHECK(*pinned->value == 0);
  }
  SECTION("when every slot is pinned, nothing is evicted") {
    Cache::slot* two = cache.find(owners[2]->id);
    REQUIRE(two != nullptr);
    ++two->pins;
    ++slot->pins;
    Value last = watched(12, watches[4]);
    CHECK(cache.install(owners[4], last) == nullptr);
    REQUIRE(last != nullptr);
    CHECK(*last == 12);
    CHECK_FALSE(watches[0].expired());
    CHECK_FALSE(watches[2].expired());
    CHECK_FALSE(watches[3].expired());

    --two->pins;  // now the only slot that may go
    CHECK(cache.install(owners[4], last) == two);
    last.reset();
    CHECK(watches[2].expired());
    CHECK(cache.find(owners[4]->id) == two);
    --slot->pins;
  }
  --pinned->pins;
}

TEST_CASE("thread_cache: the sweep releases dead owners' values, except pinned ones",
          "[thread_cache]") {
  Cache cache;
  const auto live = std::make_shared<const Owner>();
  auto dead = std::make_shared<const Owner>();
  auto pinned_dead = std::make_shared<const Owner>();
  std::weak_ptr<const int> live_watch, dead_watch, pinned_watch;
  Value value = watched(0, live_watch);
  REQUIRE(cache.install(live, value) != nullptr);
  value = watched(1, dead_watch);
  REQUIRE(cache.install(dead, value) != nullptr);
  value = watched(2, pinned_watch);
  Cache::slot* pinned = cache.install(pinned_dead, value);
  REQUIRE(pinned != nullptr);
  ++pinned->pins;
  dead.reset();
  pinned_dead.reset();

  SECTION("at least every kSweepInterval lookups, even if every one hits") {
    std::size_t misses = 0;
    for (std::uint32_t i = 0; i < Cache::kSweepInterval; ++i) {
      if (cache.find(live->id) == nullptr) ++misses;
    }
    CHECK(misses == 0);
    CHECK(dead_watch.expired());
  }
  SECTION("on a miss, before a slot is chosen") {
    const auto other = std::make_shared<const Owner>();
    value = std::make_shared<const int>(3);
    REQUIRE(cache.install(other, value) != nullptr);
    CHECK(value == nullptr);  // it took the dead owner's slot, swept empty
    CHECK(dead_watch.expired());
  }
  SECTION("when asked") {
    cache.sweep();
    CHECK(dead_watch.expired());
  }
  CHECK_FALSE(live_watch.expired());
  CHECK_FALSE(pinned_watch.expired());  // its operation is still using it
  CHECK(cache.find(live->id) != nullptr);

  --pinned->pins;
  cache.sweep();
  CHECK(pinned_watch.expired());
  CHECK_FALSE(live_watch.expired());
}

TEST_CASE("thread_cache: a value its owner has moved past is released although the owner lives",
          "[thread_cache]") {
  VersionedCache cache;
  const auto owner = std::make_shared<VersionedOwner>();
  auto payload = std::make_shared<const int>(0);
  const std::weak_ptr<const int> watch = payload;
  VersionedValue value{0, std::move(payload)};
  VersionedCache::slot* slot = cache.install(owner, value);
  REQUIRE(slot != nullptr);
  CHECK(slot->value.current_for(*owner));

  cache.sweep();
  CHECK_FALSE(watch.expired());  // still current

  owner->version.store(1);
  ++slot->pins;
  cache.sweep();
  CHECK_FALSE(watch.expired());  // stale, but pinned
  --slot->pins;
  cache.sweep();
  CHECK(watch.expired());
  CHECK(cache.find(owner->id) == nullptr);
}

TEST_CASE("thread_cache: a slot is empty before the value it held is destroyed",
          "[thread_cache]") {
  ProbeCache cache;
  auto owner = std::make_shared<const Owner>();
  const std::uint64_t id = owner->id;
  int destroyed = 0;
  bool owner_had_slot = true;
  auto probe = std::make_shared<const Probe>(&cache, id, &destroyed, &owner_had_slot);
  REQUIRE(cache.install(owner, probe) != nullptr);
  owner.reset();
  cache.sweep();
  CHECK(destroyed == 1);
  CHECK_FALSE(owner_had_slot);  // the probe's destructor looked its owner up: gone already
  CHECK(cache.find(id) == nullptr);
}

TEST_CASE("thread_cache: a thread's cache releases its values when the thread exits",
          "[thread_cache][concurrency]") {
  // Two threads at once, each with a cache of its own for the same owner, which outlives both.
  const auto owner = std::make_shared<const Owner>();
  constexpr std::size_t kThreads = 2;
  std::vector<std::weak_ptr<const int>> watches(kThreads);
  std::vector<int> installed(kThreads, 0), found_own(kThreads, 0), others_seen(kThreads, 0);
  std::atomic<std::size_t> ready{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Cache* cache = Cache::local();
      if (cache != nullptr) {
        // Each thread starts empty, whatever other threads cached for the same owner.
        if (cache->find(owner->id) != nullptr) others_seen[t] = 1;
        Value value = watched(static_cast<int>(t), watches[t]);
        if (cache->install(owner, value) != nullptr) installed[t] = 1;
      }
      // Both threads hold their values at once before either looks again.
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      const Cache::slot* slot = cache != nullptr ? cache->find(owner->id) : nullptr;
      if (slot != nullptr && *slot->value == static_cast<int>(t)) found_own[t] = 1;
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    CHECK(installed[t] == 1);
    CHECK(found_own[t] == 1);
    CHECK(others_seen[t] == 0);
    CHECK(watches[t].expired());  // released at thread exit, though the owner lives
  }
  CHECK(Cache::local() != nullptr);  // this thread's cache is untouched
  CHECK(Cache::local()->find(owner->id) == nullptr);
}

namespace {

// Uses the cache in its destructor: a thread_local made before the thread's cache is destroyed
// after it.
struct UsesCacheAtExit {
  bool armed = false;
  bool* cache_gone = nullptr;
  UsesCacheAtExit() = default;
  UsesCacheAtExit(const UsesCacheAtExit&) = delete;
  UsesCacheAtExit& operator=(const UsesCacheAtExit&) = delete;
  ~UsesCacheAtExit() {
    if (armed) *cache_gone = Cache::local() == nullptr;
  }
};

}  // namespace

TEST_CASE("thread_cache: during thread exit, once the cache is gone, local() says so",
          "[thread_cache][concurrency]") {
  SECTION("to a thread_local destroyed after the cache") {
    bool cache_gone = false;
    bool used = false;
    const auto owner = std::make_shared<const Owner>();
    std::thread([&] {
      thread_local UsesCacheAtExit at_exit;  // before the cache: destroyed after it
      at_exit.cache_gone = &cache_gone;
      at_exit.armed = true;
      Cache* cache = Cache::local();  // the cache is made now
      Value value = std::make_shared<const int>(1);
      used = cache != nullptr && cache->install(owner, value) != nullptr;
    }).join();
    CHECK(used);
    CHECK(cache_gone);
  }
  SECTION("to the values the cache releases as it goes") {
    bool cache_gone = false;
    bool used = false;
    const auto owner = std::make_shared<const Owner>();
    std::thread([&] {
      ExitCache* cache = ExitCache::local();
      auto probe = std::make_shared<const ExitProbe>(&cache_gone);
      used = cache != nullptr && cache->install(owner, probe) != nullptr;
    }).join();
    CHECK(used);
    CHECK(cache_gone);
  }
  SECTION("and a cache destroyed on this thread that is not the thread's does not") {
    { const Cache scratch; }
    CHECK(Cache::local() != nullptr);
  }
}
