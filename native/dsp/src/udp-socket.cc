// UdpSocket: an IPv4 UDP socket for one call's RTP that the caller polls.
//
// Node's dgram socket costs each received packet a libuv callback into
// JavaScript, a 64 KiB allocation trimmed to a new Buffer and an rinfo object
// with the address as a new string: about a fifth of a core-percent at 50
// packets a second, a third of what a call costs the kiosk. A call's packets
// are only needed at the media clock's 20 ms tick that plays them, so the
// kiosk reads them there instead: recv() is a non-blocking recvmsg() into the
// caller's buffer, with the kernel's arrival time (SO_TIMESTAMPNS) so jitter
// statistics stay exact although packets are read up to 20 ms after they came.
// send() is a non-blocking sendto(): the kernel copies the packet, so the
// caller's buffer is free again when it returns.
#include <napi.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace helppoint {

namespace {

bool ParseIpv4(const Napi::Value& v, in_addr* out) {
  if (!v.IsString()) return false;
  std::string s = v.As<Napi::String>().Utf8Value();
  return inet_pton(AF_INET, s.c_str(), out) == 1;
}

int PortArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "port must be a number");
  int p = info[i].As<Napi::Number>().Int32Value();
  if (p < 0 || p > 65535) throw Napi::RangeError::New(info.Env(), "port must be 0-65535");
  return p;
}

// The IPv4 address of arguments (host, port) at info[i], info[i + 1].
sockaddr_in AddressArgs(const Napi::CallbackInfo& info, size_t i) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (info.Length() <= i || !ParseIpv4(info[i], &a.sin_addr)) throw Napi::TypeError::New(info.Env(), "host must be an IPv4 address");
  a.sin_port = htons(static_cast<uint16_t>(PortArg(info, i + 1)));
  return a;
}

class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "UdpSocket",
                       {InstanceMethod("bind", &UdpSocket::Bind), InstanceMethod("localPort", &UdpSocket::LocalPort),
                        InstanceMethod("setPeer", &UdpSocket::SetPeer), InstanceMethod("send", &UdpSocket::Send),
                        InstanceMethod("sendTo", &UdpSocket::SendTo), InstanceMethod("recv", &UdpSocket::Recv),
                        InstanceMethod("close", &UdpSocket::Close)});
  }

  explicit UdpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocket>(info) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw Napi::Error::New(info.Env(), std::string("socket: ") + strerror(errno));
    int on = 1;
    // Without kernel timestamps recv() reports an age of 0 (the packet read now). Linux turns them on for the host a
    // moment after the first socket asks (deferred work): packets received before that are stamped when read.
    timestamps_ = setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0;
  }

  ~UdpSocket() { Release(); }

 private:
  void Release() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  void Open(const Napi::Env& env) {
    if (fd_ < 0) throw Napi::Error::New(env, "UdpSocket is closed");
  }

  // bind(host, port): 0, or -errno (EADDRINUSE and the like are answers, not exceptions: the caller tries other ports)
  Napi::Value Bind(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Open(env);
    sockaddr_in a = AddressArgs(info, 0);
    int r = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    return Napi::Number::New(env, r == 0 ? 0 : -errno);
  }

  Napi::Value LocalPort(const Napi::CallbackInfo& info) {
    Open(info.Env());
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return Napi::Number::New(info.Env(), -errno);
    return Napi::Number::New(info.Env(), ntohs(a.sin_port));
  }

  // setPeer(host, port): where send() goes (the SDP's address, then the latched source)
  Napi::Value SetPeer(const Napi::CallbackInfo& info) {
    peer_ = AddressArgs(info, 0);
    hasPeer_ = true;
    return info.Env().Undefined();
  }

  ssize_t SendBytes(const Napi::CallbackInfo& info, const sockaddr_in& to) {
    Napi::Env env = info.Env();
    Open(env);
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "send(bytes, length)");
    Napi::Uint8Array b = info[0].As<Napi::Uint8Array>();
    int64_t n = info[1].As<Napi::Number>().Int64Value();
    if (n < 0 || static_cast<size_t>(n) > b.ByteLength()) throw Napi::RangeError::New(env, "length beyond the buffer");
    ssize_t r = sendto(fd_, b.Data(), static_cast<size_t>(n), MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    return r < 0 ? -errno : r;
  }

  // send(bytes, length): bytes sent, or -errno (EAGAIN: the socket buffer is full and the packet is dropped, as a
  // late RTP packet would be)
  Napi::Value Send(const Napi::CallbackInfo& info) {
    if (!hasPeer_) throw Napi::Error::New(info.Env(), "no peer set");
    return Napi::Number::New(info.Env(), static_cast<double>(SendBytes(info, peer_)));
  }

  // sendTo(bytes, length, host, port): for the rare packet to somewhere else (tests)
  Napi::Value SendTo(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(SendBytes(info, AddressArgs(info, 2))));
  }

  // recv(buffer, meta: Float64Array(3)): the packet's length (a longer one is cut to the buffer and reported as -EMSGSIZE),
  // -EAGAIN when none is waiting, or another -errno; meta = [source IPv4 as a 32-bit number, source port,
  // age in ms: now minus the kernel's arrival time]
  Napi::Value Recv(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Open(env);
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray()) throw Napi::TypeError::New(env, "recv(buffer, meta)");
    Napi::Uint8Array b = info[0].As<Napi::Uint8Array>();
    Napi::Float64Array meta = info[1].As<Napi::Float64Array>();
    if (meta.ElementLength() < 3) throw Napi::RangeError::New(env, "meta needs 3 slots");
    sockaddr_in from{};
    iovec iov{b.Data(), b.ByteLength()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t r = recvmsg(fd_, &msg, MSG_DONTWAIT);
    if (r < 0) return Napi::Number::New(env, -errno);
    double ageMs = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec at;
        memcpy(&at, CMSG_DATA(c), sizeof at);
        timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ageMs = (now.tv_sec - at.tv_sec) * 1e3 + (now.tv_nsec - at.tv_nsec) / 1e6;
        if (ageMs < 0) ageMs = 0;  // the wall clock stepped back
      }
    }
    meta[0] = static_cast<double>(ntohl(from.sin_addr.s_addr));
    meta[1] = static_cast<double>(ntohs(from.sin_port));
    meta[2] = ageMs;
    if (msg.msg_flags & MSG_TRUNC) return Napi::Number::New(env, -EMSGSIZE);
    return Napi::Number::New(env, static_cast<double>(r));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  int fd_ = -1;
  bool timestamps_ = false;
  bool hasPeer_ = false;
  sockaddr_in peer_{};
};

}  // namespace

Napi::Function InitUdpSocket(Napi::Env env) { return UdpSocket::Init(env); }

}  // namespace helppoint
