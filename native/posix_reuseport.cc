// Sticky sessions without a process in the path: a classic BPF program on a SO_REUSEPORT
// group picks the socket for each new connection from a hash of the client's address, so
// one client always lands on the same worker slot. The kernel runs it for every SYN; the
// master never sees a connection.
#include <sys/socket.h>
#if defined(__linux__)
#include <linux/filter.h>
#endif

#include <cerrno>
#include <cstdint>
#include <vector>

#include "args.h"
#include "errors.h"
#include "surface.h"

namespace overseer {

namespace {

#if defined(__linux__)
// Loads from the network header (the program runs with skb->data past the TCP header).
constexpr uint32_t kNet = static_cast<uint32_t>(SKF_NET_OFF);

// A = hash(source address) % groupSize, the index of the socket in the group (the order
// the group's sockets were bound in). IPv4: the address; IPv6: its four words XORed.
// Then A ^= A >> 16, so that clients whose addresses differ only in high bits spread too.
std::vector<sock_filter> SourceHashProgram(uint32_t groupSize) {
  return {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, kNet + 0),        // A = version/IHL byte
      BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),              // A = IP version
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 2, 0),        // IPv6? skip to the v6 words
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNet + 12),       // IPv4 source address
      BPF_JUMP(BPF_JMP | BPF_JA, 10, 0, 0),                // to the mixing
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNet + 8),        // IPv6 source, word 0
      BPF_STMT(BPF_MISC | BPF_TAX, 0),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNet + 12),       // word 1
      BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
      BPF_STMT(BPF_MISC | BPF_TAX, 0),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNet + 16),       // word 2
      BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
      BPF_STMT(BPF_MISC | BPF_TAX, 0),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNet + 20),       // word 3
      BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
      BPF_STMT(BPF_MISC | BPF_TAX, 0),                     // mixing: X = A
      BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
      BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),              // A = A ^ (A >> 16)
      BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, groupSize),
      BPF_STMT(BPF_RET | BPF_A, 0),
  };
}
#endif

}  // namespace

Napi::Value SteerReuseportBySource(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(info[0], "fd");
  auto groupSize = static_cast<uint32_t>(ToInteger(info[1], "groupSize", 1, 65535));
#if defined(__linux__) && defined(SO_ATTACH_REUSEPORT_CBPF)
  std::vector<sock_filter> program = SourceHashProgram(groupSize);
  sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog, sizeof fprog) != 0) {
    throw SysError(env, -errno, "setsockopt");
  }
  return env.Undefined();
#else
  (void)fd;
  (void)groupSize;
  throw NotSupported(env, "setsockopt", "SO_ATTACH_REUSEPORT_CBPF is Linux-only (3.9 and later)");
#endif
}

}  // namespace overseer
