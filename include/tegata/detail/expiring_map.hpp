// tegata/detail/expiring_map.hpp - a hash map whose entries expire, ordered by expiry.
//
// The node-based map MemoryRevocationStore used first; the Redis store's local cache
// (store/redis/cache.hpp) still uses it. MemoryRevocationStore itself now keeps its facts in the
// more compact detail::expiring_table (detail/id_table.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace tegata::detail {

// std::hash over string_view, usable for lookups without building a std::string.
struct transparent_string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// A hash map whose every entry carries an expiry time, plus an index ordered by that time so the
// expired entries can be found without scanning. Not synchronised: the owning shard locks.
template <class Key, class Value, class Hash, class Equal>
class expiring_map {
  using index_type = std::multimap<std::chrono::sys_seconds, const Key*>;

 public:
  struct entry {
    Value value;
    std::chrono::sys_seconds until;
    typename index_type::iterator where;  // this entry's node in the index
  };

  template <class K>
  entry* find(const K& key) noexcept {
    const auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  template <class K>
  const entry* find(const K& key) const noexcept {
    const auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }

  // Adds an entry for a key the caller has just found absent (under the same lock). Strong
  // guarantee: if an allocation fails, the map is unchanged and the exception propagates.
  entry& insert(Key key, Value value, std::chrono::sys_seconds until) {
    const auto it =
        map_.try_emplace(std::move(key), entry{std::move(value), until, index_.end()}).first;
    try {
      it->second.where = index_.emplace(until, &it->first);  // keys of map nodes never move
    } catch (...) {
      map_.erase(it);
      throw;
    }
    return it->second;
  }

  // Keeps the entry at least until `until`; never shortens it. Re-links the existing index node,
  // so it cannot fail.
  void extend(entry& e, std::chrono::sys_seconds until) noexcept {
    if (until <= e.until) return;
    auto node = index_.extract(e.where);
    node.key() = until;
    e.where = index_.insert(std::move(node));
    e.until = until;
  }

  void erase(entry& e) noexcept { erase_at(e.where); }

  // Drops every entry with until <= now; returns how many.
  std::size_t prune(std::chrono::sys_seconds now) noexcept {
    std::size_t dropped = 0;
    while (!index_.empty() && index_.begin()->first <= now) {
      erase_at(index_.begin());
      ++dropped;
    }
    return dropped;
  }

  std::size_t size() const noexcept { return map_.size(); }

 private:
  // The index node points at the key inside the map node: look the entry up first, then drop both.
  void erase_at(typename index_type::iterator where) noexcept {
    map_.erase(map_.find(*where->second));
    index_.erase(where);
  }

  std::unordered_map<Key, entry, Hash, Equal> map_;
  index_type index_;
};

}  // namespace tegata::detail
