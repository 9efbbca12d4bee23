// tegata/store/redis/sentinel_watch.hpp - follows the Sentinels' +switch-master announcements.
// Internal to the Redis store, which runs one only when it was given Sentinels.
//
// A store finds the primary through the Sentinels whenever it opens a connection, and a
// connection that fails or meets READONLY is reopened. That leaves one case uncovered: a primary
// cut off from the Sentinels (and its replicas) while they promote another keeps accepting
// writes from a client that still reaches it, and those writes are lost when it rejoins as a
// replica. So a background thread subscribes to +switch-master on one Sentinel (the next one
// when that fails) and, at each switch of the store's master name, moves the endpoint's primary
// generation on: every pooled connection opened before is reopened before its next use, and the
// local cache subscribes again. After a lost subscription the generation moves on too, since a
// switch may have been missed meanwhile.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "tegata/store/redis/connection.hpp"

namespace tegata::redis::detail {

class sentinel_watch {
 public:
  sentinel_watch(std::shared_ptr<const endpoint> ep, std::chrono::milliseconds retry_after)
      : endpoint_(std::move(ep)), retry_after_(std::max(retry_after, std::chrono::milliseconds{10})) {
    if (::pipe(wake_) != 0) {
      throw std::system_error(errno, std::generic_category(), "tegata: redis sentinel watch pipe");
    }
    ::fcntl(wake_[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(wake_[1], F_SETFD, FD_CLOEXEC);
    try {
      thread_ = std::thread([this] { run(); });
    } catch (...) {
      close_pipe();
      throw;
    }
  }
  ~sentinel_watch() {
    stopping_.store(true, std::memory_order_release);
    const char byte = 0;
    while (::write(wake_[1], &byte, 1) == -1 && errno == EINTR) {
    }
    thread_.join();
    close_pipe();
  }
  sentinel_watch(const sentinel_watch&) = delete;
  sentinel_watch& operator=(const sentinel_watch&) = delete;

 private:
  void run() noexcept {
    const auto& sentinels = endpoint_->sentinels();
    bool subscribed_before = false;
    for (std::size_t i = 0; !stopping_.load(std::memory_order_acquire); ++i) {
      try {
        if (listen(sentinels[i % sentinels.size()], subscribed_before)) subscribed_before = true;
      } catch (...) {  // std::bad_alloc: try again after the delay
      }
      if (!sleep(retry_after_)) return;
    }
  }

  // One subscription, until it fails or the store stops. True if it was established.
  bool listen(const host_port& at, bool subscribed_before) {
    const context_ptr s = endpoint_->open_sentinel(at);
    if (!s) return false;
    const reply_ptr r = run_command(s.get(), {"SUBSCRIBE", "+switch-master"});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || text(r->element[0]) != "subscribe") {
      return false;
    }
    if (subscribed_before) endpoint_->primary_switched();  // one may have been missed meanwhile
    for (;;) {
      pollfd fds[2] = {{s->fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      const int ready = ::poll(fds, 2, -1);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return true;
      }
      if (fds[1].revents != 0) return true;  // stopping
      if (redisBufferRead(s.get()) != REDIS_OK) return true;
      for (;;) {
        void* raw = nullptr;
        if (redisGetReplyFromReader(s.get(), &raw) != REDIS_OK) return true;
        if (raw == nullptr) break;
        const reply_ptr message(static_cast<redisReply*>(raw));
        if (switches_our_primary(*message)) endpoint_->primary_switched();
      }
    }
  }

  // ["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]
  bool switches_our_primary(const redisReply& m) const {
    if (m.type != REDIS_REPLY_ARRAY || m.elements != 3 || text(m.element[0]) != "message") {
      return false;
    }
    const std::string_view payload = text(m.element[2]);
    const std::string& name = endpoint_->master_name();
    return payload.size() > name.size() && payload.substr(0, name.size()) == name &&
           payload[name.size()] == ' ';
  }

  static reply_ptr run_command(redisContext* c, std::initializer_list<std::string_view> args) {
    return detail::run(c, command(args));
  }

  // Waits, unless the store stops first. False when stopping.
  bool sleep(std::chrono::milliseconds d) const noexcept {
    if (stopping_.load(std::memory_order_acquire)) return false;
    pollfd fd{wake_[0], POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(d.count()));
    return ready == 0 || (ready < 0 && errno == EINTR);
  }

  void close_pipe() noexcept {
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  std::shared_ptr<const endpoint> endpoint_;
  std::chrono::milliseconds retry_after_;
  std::atomic<bool> stopping_{false};
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace tegata::redis::detail
