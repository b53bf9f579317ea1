// The synchronous file-system calls tsrunc makes (src/util/fs.ts), so that
// no verb needs Node's node:fs. Why: under Bun (dist/tsrunc) node:fs is a
// large JS builtin evaluated at its first require, ~1.3 ms of CPU of a
// ~7.6 ms `list` (an empty Bun executable: ~4 ms; runc's `list`: ~4.4 ms).
//
// Thin wrappers: one syscall each (readFile: open + fstat + reads), results
// as numbers, strings or arrays, and a failure as -errno, never a thrown
// C++ exception: src/util/fs.ts turns it into the error node:fs would throw
// (errName below gives libuv's code and wording for it). Every fd is opened
// O_CLOEXEC, as libuv does: none may leak into a hook or the container.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "functions.h"

namespace tsrunc {

namespace {

// What readFile's failure of read(2) adds to -errno: errnos are below 4096
// (the kernel's MAX_ERRNO), so -errno - kReadFailed says "read failed" and
// -errno alone "open failed" in one number.
constexpr int kReadFailed = 4096;

std::string Str(const Napi::Value& v) { return v.As<Napi::String>().Utf8Value(); }
int Int(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }
Napi::Value Result(Napi::Env env, long r) { return Napi::Number::New(env, r < 0 ? -errno : (double)r); }

// The kernel returns EINTR only for a signal during a slow call (a fifo, a
// pipe); libuv retries those (all but close), and so do we.
#define RETRY(expr)                    \
  ({                                   \
    long r_;                           \
    do r_ = (long)(expr);              \
    while (r_ < 0 && errno == EINTR);  \
    r_;                                \
  })

// (path, flags, mode) -> fd
Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  return Result(info.Env(), RETRY(open(path.c_str(), Int(info[1]) | O_CLOEXEC, (mode_t)Int(info[2]))));
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  // EINTR: the fd is closed all the same on Linux (libuv counts it a success).
  int r = close(Int(info[0]));
  if (r < 0 && errno == EINTR) r = 0;
  return Result(info.Env(), r);
}

// (fd, buffer, offset, length, position: -1 = the file position) -> bytes read
Napi::Value Read(const Napi::CallbackInfo& info) {
  int fd = Int(info[0]);
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  size_t off = info[2].As<Napi::Number>().Int64Value();
  size_t len = info[3].As<Napi::Number>().Int64Value();
  int64_t pos = info[4].As<Napi::Number>().Int64Value();
  if (off > buf.ByteLength() || len > buf.ByteLength() - off) return Napi::Number::New(info.Env(), -EINVAL);
  uint8_t* p = buf.Data() + off;
  return Result(info.Env(), pos < 0 ? RETRY(read(fd, p, len)) : RETRY(pread(fd, p, len, pos)));
}

// (fd, string | buffer, offset, length, position: -1 = the file position) -> bytes written (one write(2), as node:fs)
Napi::Value Write(const Napi::CallbackInfo& info) {
  int fd = Int(info[0]);
  int64_t pos = info[4].As<Napi::Number>().Int64Value();
  std::string s;
  const uint8_t* p;
  size_t len;
  if (info[1].IsString()) {
    s = Str(info[1]);
    p = (const uint8_t*)s.data();
    len = s.size();
  } else {
    Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
    size_t off = info[2].As<Napi::Number>().Int64Value();
    len = info[3].As<Napi::Number>().Int64Value();
    if (off > buf.ByteLength() || len > buf.ByteLength() - off) return Napi::Number::New(info.Env(), -EINVAL);
    p = buf.Data() + off;
  }
  return Result(info.Env(), pos < 0 ? RETRY(write(fd, p, len)) : RETRY(pwrite(fd, p, len, pos)));
}

// (fd, string) -> 0, or -errno: the string's UTF-8 bytes, all of them,
// however many write(2)s that takes. Where the fd is non-blocking (a pipe or
// tty someone else set so) and full, waits in poll(2) until it takes more.
// Output and state files go through here: under Bun, encoding in JavaScript
// (TextEncoder) costs ~0.03 ms at its first use, on every verb.
Napi::Value WriteAll(const Napi::CallbackInfo& info) {
  int fd = Int(info[0]);
  std::string s = Str(info[1]);
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n >= 0) {
      off += (size_t)n;
    } else if (errno == EAGAIN) {
      struct pollfd p = {fd, POLLOUT, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return Napi::Number::New(info.Env(), -errno);
    } else if (errno != EINTR) {
      return Napi::Number::New(info.Env(), -errno);
    }
  }
  return Napi::Number::New(info.Env(), 0);
}

// (path | fd, encoding: 0 buffer, 1 utf8, 2 latin1) -> the content, or
// -errno (open failed) or -errno - kReadFailed (read failed). An fd is read
// from its position to EOF and left open. The size fstat gives is only a
// hint: /proc and cgroup files say 0 and a file may grow meanwhile.
Napi::Value ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  bool own = info[0].IsString();
  if (own) {
    std::string path = Str(info[0]);
    fd = (int)RETRY(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd < 0) return Napi::Number::New(env, -errno);
  } else {
    fd = Int(info[0]);
  }
  struct stat st;
  size_t want = 0;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) want = (size_t)st.st_size;
  std::vector<char> data(want > 0 ? want + 1 : 8192);
  size_t got = 0;
  int err = 0;
  for (;;) {
    if (got == data.size()) data.resize(data.size() * 2);
    ssize_t n = RETRY(read(fd, data.data() + got, data.size() - got));
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  if (own) close(fd);
  if (err) return Napi::Number::New(env, -err - kReadFailed);
  switch (Int(info[1])) {
    case 1:
      return Napi::String::New(env, data.data(), got);
    case 2: {
      napi_value s;
      napi_create_string_latin1(env, data.data(), got, &s);
      return Napi::Value(env, s);
    }
    default:
      return Napi::Buffer<char>::Copy(env, data.data(), got);
  }
}

// Fills out[0..] with dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks.
void PutStat(const struct stat& st, Napi::Float64Array out) {
  double* o = out.Data();
  o[0] = (double)st.st_dev;
  o[1] = (double)st.st_ino;
  o[2] = st.st_mode;
  o[3] = (double)st.st_nlink;
  o[4] = st.st_uid;
  o[5] = st.st_gid;
  o[6] = (double)st.st_rdev;
  o[7] = (double)st.st_size;
  o[8] = (double)st.st_blksize;
  o[9] = (double)st.st_blocks;
}

// (path, follow, out) -> 0: stat(2) or lstat(2)
Napi::Value Stat(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  struct stat st;
  int r = info[1].As<Napi::Boolean>().Value() ? stat(path.c_str(), &st) : lstat(path.c_str(), &st);
  if (r == 0) PutStat(st, info[2].As<Napi::Float64Array>());
  return Result(info.Env(), r);
}

// (fd, out) -> 0
Napi::Value Fstat(const Napi::CallbackInfo& info) {
  struct stat st;
  int r = fstat(Int(info[0]), &st);
  if (r == 0) PutStat(st, info[1].As<Napi::Float64Array>());
  return Result(info.Env(), r);
}

// (path, out) -> 0; out: type, bsize, blocks, bfree, bavail, files, ffree
Napi::Value Statfs(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  struct statfs sf;
  int r = statfs(path.c_str(), &sf);
  if (r == 0) {
    double* o = info[1].As<Napi::Float64Array>().Data();
    o[0] = (double)sf.f_type;
    o[1] = (double)sf.f_bsize;
    o[2] = (double)sf.f_blocks;
    o[3] = (double)sf.f_bfree;
    o[4] = (double)sf.f_bavail;
    o[5] = (double)sf.f_files;
    o[6] = (double)sf.f_ffree;
  }
  return Result(info.Env(), r);
}

// (path, withTypes) -> names, or [names, DT_* types] (DT_UNKNOWN looked up
// with an lstat, as node:fs does), sorted by strcmp as libuv's scandir does
// (a listing's order is what `list` prints).
Napi::Value Readdir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = Str(info[0]);
  bool withTypes = info[1].As<Napi::Boolean>().Value();
  DIR* d = opendir(path.c_str());
  if (!d) return Napi::Number::New(env, -errno);
  std::vector<std::pair<std::string, int>> entries;
  int err = 0;
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (!e) {
      err = errno;
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    int type = e->d_type;
    if (withTypes && type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) type = IFTODT(st.st_mode);
    }
    entries.emplace_back(e->d_name, type);
  }
  closedir(d);
  if (err) return Napi::Number::New(env, -err);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return strcmp(a.first.c_str(), b.first.c_str()) < 0; });
  Napi::Array names = Napi::Array::New(env, entries.size());
  for (uint32_t i = 0; i < entries.size(); i++) names.Set(i, Napi::String::New(env, entries[i].first));
  if (!withTypes) return names;
  Napi::Array types = Napi::Array::New(env, entries.size());
  for (uint32_t i = 0; i < entries.size(); i++) types.Set(i, Napi::Number::New(env, entries[i].second));
  Napi::Array both = Napi::Array::New(env, 2);
  both.Set(0u, names);
  both.Set(1u, types);
  return both;
}

Napi::Value Mkdir(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  return Result(info.Env(), mkdir(path.c_str(), (mode_t)Int(info[1])));
}

Napi::Value Rmdir(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  return Result(info.Env(), rmdir(path.c_str()));
}

Napi::Value Unlink(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  return Result(info.Env(), unlink(path.c_str()));
}

Napi::Value Rename(const Napi::CallbackInfo& info) {
  std::string from = Str(info[0]), to = Str(info[1]);
  return Result(info.Env(), rename(from.c_str(), to.c_str()));
}

// (a, b) -> 0: the two names swapped in one step (renameat2
// RENAME_EXCHANGE, Linux 3.15; by number, as glibc before 2.28 has no
// wrapper). Both must exist; EINVAL where the filesystem cannot.
Napi::Value Exchange(const Napi::CallbackInfo& info) {
  std::string a = Str(info[0]), b = Str(info[1]);
  constexpr unsigned kRenameExchange = 1u << 1;  // RENAME_EXCHANGE, linux/fs.h
  return Result(info.Env(), syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), kRenameExchange));
}

// (path) -> the link's target
Napi::Value Readlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = Str(info[0]);
  std::vector<char> buf(256);
  for (;;) {
    ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) return Napi::Number::New(env, -errno);
    if ((size_t)n < buf.size()) return Napi::String::New(env, buf.data(), (size_t)n);
    buf.resize(buf.size() * 4);  // maybe cut short: again, with room
  }
}

Napi::Value Access(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  return Result(info.Env(), access(path.c_str(), Int(info[1])));
}

Napi::Value Chmod(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  return Result(info.Env(), chmod(path.c_str(), (mode_t)Int(info[1])));
}

Napi::Value Chown(const Napi::CallbackInfo& info) {
  std::string path = Str(info[0]);
  return Result(info.Env(), chown(path.c_str(), (uid_t)info[1].As<Napi::Number>().Uint32Value(), (gid_t)info[2].As<Napi::Number>().Uint32Value()));
}

Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  return Result(info.Env(), RETRY(ftruncate(Int(info[0]), info[1].As<Napi::Number>().Int64Value())));
}

// libuv's names and wording for errno values (uv-common.h, UV_ERRNO_MAP, as
// Node's util.getSystemErrorMap() reports them), which node:fs puts into its
// errors' code and message. The ones not errno values (EAI_*, EOF) left out.
struct ErrName {
  int no;
  const char* code;
  const char* text;
};
const ErrName kErrNames[] = {
#ifdef EPERM
    {EPERM, "EPERM", "operation not permitted"},
#endif
#ifdef ENOENT
    {ENOENT, "ENOENT", "no such file or directory"},
#endif
#ifdef ESRCH
    {ESRCH, "ESRCH", "no such process"},
#endif
#ifdef EINTR
    {EINTR, "EINTR", "interrupted system call"},
#endif
#ifdef EIO
    {EIO, "EIO", "i/o error"},
#endif
#ifdef ENXIO
    {ENXIO, "ENXIO", "no such device or address"},
#endif
#ifdef E2BIG
    {E2BIG, "E2BIG", "argument list too long"},
#endif
#ifdef ENOEXEC
    {ENOEXEC, "ENOEXEC", "exec format error"},
#endif
#ifdef EBADF
    {EBADF, "EBADF", "bad file descriptor"},
#endif
#ifdef EAGAIN
    {EAGAIN, "EAGAIN", "resource temporarily unavailable"},
#endif
#ifdef ENOMEM
    {ENOMEM, "ENOMEM", "not enough memory"},
#endif
#ifdef EACCES
    {EACCES, "EACCES", "permission denied"},
#endif
#ifdef EFAULT
    {EFAULT, "EFAULT", "bad address in system call argument"},
#endif
#ifdef EBUSY
    {EBUSY, "EBUSY", "resource busy or locked"},
#endif
#ifdef EEXIST
    {EEXIST, "EEXIST", "file already exists"},
#endif
#ifdef EXDEV
    {EXDEV, "EXDEV", "cross-device link not permitted"},
#endif
#ifdef ENODEV
    {ENODEV, "ENODEV", "no such device"},
#endif
#ifdef ENOTDIR
    {ENOTDIR, "ENOTDIR", "not a directory"},
#endif
#ifdef EISDIR
    {EISDIR, "EISDIR", "illegal operation on a directory"},
#endif
#ifdef EINVAL
    {EINVAL, "EINVAL", "invalid argument"},
#endif
#ifdef ENFILE
    {ENFILE, "ENFILE", "file table overflow"},
#endif
#ifdef EMFILE
    {EMFILE, "EMFILE", "too many open files"},
#endif
#ifdef ENOTTY
    {ENOTTY, "ENOTTY", "inappropriate ioctl for device"},
#endif
#ifdef ETXTBSY
    {ETXTBSY, "ETXTBSY", "text file is busy"},
#endif
#ifdef EFBIG
    {EFBIG, "EFBIG", "file too large"},
#endif
#ifdef ENOSPC
    {ENOSPC, "ENOSPC", "no space left on device"},
#endif
#ifdef ESPIPE
    {ESPIPE, "ESPIPE", "invalid seek"},
#endif
#ifdef EROFS
    {EROFS, "EROFS", "read-only file system"},
#endif
#ifdef EMLINK
    {EMLINK, "EMLINK", "too many links"},
#endif
#ifdef EPIPE
    {EPIPE, "EPIPE", "broken pipe"},
#endif
#ifdef ERANGE
    {ERANGE, "ERANGE", "result too large"},
#endif
#ifdef ENAMETOOLONG
    {ENAMETOOLONG, "ENAMETOOLONG", "name too long"},
#endif
#ifdef ENOSYS
    {ENOSYS, "ENOSYS", "function not implemented"},
#endif
#ifdef ENOTEMPTY
    {ENOTEMPTY, "ENOTEMPTY", "directory not empty"},
#endif
#ifdef ELOOP
    {ELOOP, "ELOOP", "too many symbolic links encountered"},
#endif
#ifdef EUNATCH
    {EUNATCH, "EUNATCH", "protocol driver not attached"},
#endif
#ifdef ENODATA
    {ENODATA, "ENODATA", "no data available"},
#endif
#ifdef ENONET
    {ENONET, "ENONET", "machine is not on the network"},
#endif
#ifdef EPROTO
    {EPROTO, "EPROTO", "protocol error"},
#endif
#ifdef EOVERFLOW
    {EOVERFLOW, "EOVERFLOW", "value too large for defined data type"},
#endif
#ifdef EILSEQ
    {EILSEQ, "EILSEQ", "illegal byte sequence"},
#endif
#ifdef ENOTSOCK
    {ENOTSOCK, "ENOTSOCK", "socket operation on non-socket"},
#endif
#ifdef EDESTADDRREQ
    {EDESTADDRREQ, "EDESTADDRREQ", "destination address required"},
#endif
#ifdef EMSGSIZE
    {EMSGSIZE, "EMSGSIZE", "message too long"},
#endif
#ifdef EPROTOTYPE
    {EPROTOTYPE, "EPROTOTYPE", "protocol wrong type for socket"},
#endif
#ifdef ENOPROTOOPT
    {ENOPROTOOPT, "ENOPROTOOPT", "protocol not available"},
#endif
#ifdef EPROTONOSUPPORT
    {EPROTONOSUPPORT, "EPROTONOSUPPORT", "protocol not supported"},
#endif
#ifdef ESOCKTNOSUPPORT
    {ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", "socket type not supported"},
#endif
#ifdef ENOTSUP
    {ENOTSUP, "ENOTSUP", "operation not supported on socket"},
#endif
#ifdef EAFNOSUPPORT
    {EAFNOSUPPORT, "EAFNOSUPPORT", "address family not supported"},
#endif
#ifdef EADDRINUSE
    {EADDRINUSE, "EADDRINUSE", "address already in use"},
#endif
#ifdef EADDRNOTAVAIL
    {EADDRNOTAVAIL, "EADDRNOTAVAIL", "address not available"},
#endif
#ifdef ENETDOWN
    {ENETDOWN, "ENETDOWN", "network is down"},
#endif
#ifdef ENETUNREACH
    {ENETUNREACH, "ENETUNREACH", "network is unreachable"},
#endif
#ifdef ECONNABORTED
    {ECONNABORTED, "ECONNABORTED", "software caused connection abort"},
#endif
#ifdef ECONNRESET
    {ECONNRESET, "ECONNRESET", "connection reset by peer"},
#endif
#ifdef ENOBUFS
    {ENOBUFS, "ENOBUFS", "no buffer space available"},
#endif
#ifdef EISCONN
    {EISCONN, "EISCONN", "socket is already connected"},
#endif
#ifdef ENOTCONN
    {ENOTCONN, "ENOTCONN", "socket is not connected"},
#endif
#ifdef ESHUTDOWN
    {ESHUTDOWN, "ESHUTDOWN", "cannot send after transport endpoint shutdown"},
#endif
#ifdef ETIMEDOUT
    {ETIMEDOUT, "ETIMEDOUT", "connection timed out"},
#endif
#ifdef ECONNREFUSED
    {ECONNREFUSED, "ECONNREFUSED", "connection refused"},
#endif
#ifdef EHOSTDOWN
    {EHOSTDOWN, "EHOSTDOWN", "host is down"},
#endif
#ifdef EHOSTUNREACH
    {EHOSTUNREACH, "EHOSTUNREACH", "host is unreachable"},
#endif
#ifdef EALREADY
    {EALREADY, "EALREADY", "connection already in progress"},
#endif
#ifdef EREMOTEIO
    {EREMOTEIO, "EREMOTEIO", "remote I/O error"},
#endif
#ifdef ECANCELED
    {ECANCELED, "ECANCELED", "operation canceled"},
#endif
};

// (errno) -> [code, description]; libuv's UNKNOWN for what it has no name for.
Napi::Value ErrNameOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int no = Int(info[0]);
  const char* code = "UNKNOWN";
  const char* text = "unknown error";
  for (const ErrName& e : kErrNames)
    if (e.no == no) {
      code = e.code;
      text = e.text;
      break;
    }
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(0u, Napi::String::New(env, code));
  r.Set(1u, Napi::String::New(env, text));
  return r;
}

// () -> { constants, errno }: the platform's values (O_DIRECTORY differs
// between x86-64 and arm64), and the errnos src/util/fs.ts tests for itself.
Napi::Value FsNumbers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object c = Napi::Object::New(env);
  c.Set("O_RDONLY", O_RDONLY);
  c.Set("O_WRONLY", O_WRONLY);
  c.Set("O_RDWR", O_RDWR);
  c.Set("O_CREAT", O_CREAT);
  c.Set("O_EXCL", O_EXCL);
  c.Set("O_TRUNC", O_TRUNC);
  c.Set("O_APPEND", O_APPEND);
  c.Set("O_DIRECTORY", O_DIRECTORY);
  c.Set("O_NOFOLLOW", O_NOFOLLOW);
  c.Set("F_OK", F_OK);
  c.Set("R_OK", R_OK);
  c.Set("W_OK", W_OK);
  c.Set("X_OK", X_OK);
  Napi::Object e = Napi::Object::New(env);
  e.Set("ENOENT", ENOENT);
  e.Set("EEXIST", EEXIST);
  e.Set("ENOTDIR", ENOTDIR);
  e.Set("EISDIR", EISDIR);
  e.Set("EACCES", EACCES);
  e.Set("ENOSPC", ENOSPC);
  e.Set("EPERM", EPERM);
  Napi::Object r = Napi::Object::New(env);
  r.Set("constants", c);
  r.Set("errno", e);
  return r;
}

}  // namespace

const NamedFunction kFsFunctions[] = {
    {"open", Open},
    {"close", Close},
    {"read", Read},
    {"write", Write},
    {"writeAll", WriteAll},
    {"readFile", ReadFile},
    {"stat", Stat},
    {"fstat", Fstat},
    {"statfs", Statfs},
    {"readdir", Readdir},
    {"mkdir", Mkdir},
    {"rmdir", Rmdir},
    {"unlink", Unlink},
    {"rename", Rename},
    {"exchange", Exchange},
    {"readlink", Readlink},
    {"access", Access},
    {"chmod", Chmod},
    {"chown", Chown},
    {"ftruncate", Ftruncate},
    {"errName", ErrNameOf},
    {"fsNumbers", FsNumbers},
};
const size_t kFsFunctionCount = sizeof(kFsFunctions) / sizeof(kFsFunctions[0]);

}  // namespace tsrunc
