#ifndef MODELMON_TESTS_SERVER_STRICT_HTTP_H_
#define MODELMON_TESTS_SERVER_STRICT_HTTP_H_

// A strict reference parser of HTTP/1.1 request streams written from RFC 9112 alone, and a
// generator of request streams that stress framing (Content-Length and Transfer-Encoding variants,
// chunk extensions, trailers, folding, pipelining, truncation, stray bytes). The framing
// differential test and fuzz target run the server's parsing (server/request_framing.h) and this
// reference over the same bytes and require the same requests, bodies and verdict.
//
// Where RFC 9112 leaves a choice, the reference takes the stricter one the server documents:
// Content-Length or Transfer-Encoding in a trailer section is refused (400; RFC 9110 §6.5.1 lets a
// recipient reject fields not allowed in trailers), other trailer fields are dropped;
// obs-fold in a field (§5.2) is replaced by spaces (the parser's choice, allowed by the RFC);
// versions other than HTTP/1.0 and 1.1 are refused (§2.3 would treat 1.2 as 1.1); empty lines
// before a request line are refused (§2.2 says SHOULD ignore; refusing is safe);
// Transfer-Encoding beside Content-Length, in HTTP/1.0, or with a coding other than one final
// chunked is refused (400; 501 for an unknown coding); Host must appear once in HTTP/1.1 and at
// most once otherwise.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace modelmon::strict_http {

struct Request {
  std::string method;
  std::string target;
  std::string body;
  bool operator==(const Request&) const = default;
};

struct Stream {
  std::vector<Request> requests;
  bool incomplete = false;
  int error_status = 0;
};

namespace internal {

inline bool IsTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}
inline bool IsFieldVchar(unsigned char c) { return (c >= 0x21 && c != 0x7f) || c >= 0x80; }
inline bool IsOws(char c) { return c == ' ' || c == '\t'; }
inline char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
inline bool IEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}
inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

struct Field {
  std::string name;
  std::string value;
};

enum class Parse { kOk, kIncomplete, kError };

// Reads one CRLF-terminated line at *pos. kError on a bare CR or LF.
inline Parse Line(std::string_view in, size_t* pos, std::string_view* line) {
  for (size_t i = *pos; i < in.size(); ++i) {
    if (in[i] == '\n') return Parse::kError;  // LF without CR.
    if (in[i] == '\r') {
      if (i + 1 == in.size()) return Parse::kIncomplete;
      if (in[i + 1] != '\n') return Parse::kError;
      *line = in.substr(*pos, i - *pos);
      *pos = i + 2;
      return Parse::kOk;
    }
  }
  return Parse::kIncomplete;
}

// Field lines up to and including the empty line. Obs-fold continues the previous value with one
// space in place of the fold.
inline Parse Fields(std::string_view in, size_t* pos, std::vector<Field>* fields) {
  for (;;) {
    std::string_view line;
    const Parse p = Line(in, pos, &line);
    if (p != Parse::kOk) return p;
    if (line.empty()) return Parse::kOk;
    if (IsOws(line.front())) {
      if (fields->empty()) return Parse::kError;
      for (char c : line) {
        if (!IsOws(c) && !IsFieldVchar(static_cast<unsigned char>(c))) return Parse::kError;
      }
      auto& v = fields->back().value;
      v += ' ';
      v += Trim(line);
      v = std::string(Trim(v));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Parse::kError;
    for (size_t i = 0; i < colon; ++i) {
      if (!IsTchar(static_cast<unsigned char>(line[i]))) return Parse::kError;
    }
    const std::string_view value = Trim(line.substr(colon + 1));
    for (char c : value) {
      if (!IsOws(c) && !IsFieldVchar(static_cast<unsigned char>(c))) return Parse::kError;
    }
    fields->push_back({std::string(line.substr(0, colon)), std::string(value)});
  }
}

inline std::vector<std::string_view> Elements(std::string_view v) {
  std::vector<std::string_view> out;
  for (;;) {
    const size_t comma = v.find(',');
    out.push_back(Trim(v.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    v.remove_prefix(comma + 1);
  }
}

inline bool Decimal(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

inline int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string.
inline bool ChunkExtensions(std::string_view s) {
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && IsOws(s[i])) ++i;
  };
  auto token = [&] {
    const size_t start = i;
    while (i < s.size() && IsTchar(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  for (;;) {
    const size_t before = i;
    skip_ws();
    if (i == s.size()) return i == before;  // BWS only before a ";".
    if (s[i] != ';') return false;
    ++i;
    skip_ws();
    if (!token()) return false;
    const size_t after_name = i;
    skip_ws();
    if (i == s.size() || s[i] != '=') i = after_name;  // BWS only before "=" or ";".
    if (i < s.size() && s[i] == '=') {
      ++i;
      skip_ws();
      if (i < s.size() && s[i] == '"') {
        ++i;
        bool closed = false;
        while (i < s.size()) {
          const unsigned char c = static_cast<unsigned char>(s[i]);
          if (c == '"') {
            ++i;
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i + 1 == s.size()) return false;
            i += 2;
            continue;
          }
          if (!(c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
                (c >= 0x5d && c <= 0x7e) || c >= 0x80)) {
            return false;
          }
          ++i;
        }
        if (!closed) return false;
      } else if (!token()) {
        return false;
      }
    }
  }
}

}  // namespace internal

// Parses a pipelined stream of requests as a strict server would execute them.
inline Stream Parse(std::string_view in, size_t max_header_bytes, size_t max_body_bytes) {
  using internal::Parse;
  Stream out;
  size_t pos = 0;
  auto fail = [&](int status) {
    out.error_status = status;
    return out;
  };
  auto cut = [&] {
    out.incomplete = true;
    return out;
  };
  while (pos < in.size()) {
    const size_t head_start = pos;
    // The head, as a whole, is bounded: past the bound without its end, 431.
    const size_t end = in.find("\r\n\r\n", head_start);
    const size_t head_bytes =
        end == std::string_view::npos ? in.size() - head_start : end + 4 - head_start;
    std::string_view line;
    Parse p = internal::Line(in, &pos, &line);
    if (p == Parse::kError) return fail(400);
    if (p == Parse::kIncomplete) return head_bytes > max_header_bytes ? fail(431) : cut();
    // request-line = method SP request-target SP HTTP-version
    const size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return fail(400);
    const size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return fail(400);
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    for (char c : method) {
      if (!internal::IsTchar(static_cast<unsigned char>(c))) return fail(400);
    }
    for (char c : target) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u == 0x7f) return fail(400);
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
      return fail(400);
    }
    const int v = (version[5] - '0') * 10 + (version[7] - '0');
    if (v != 10 && v != 11) return fail(400);  // Only HTTP/1.0 and HTTP/1.1 are served.
    std::vector<internal::Field> fields;
    p = internal::Fields(in, &pos, &fields);
    if (p == Parse::kError) return fail(400);
    if (p == Parse::kIncomplete) return head_bytes > max_header_bytes ? fail(431) : cut();
    if (pos - head_start > max_header_bytes) return fail(431);

    // Connection is a list of tokens (RFC 9110 §7.6.1); the parser refuses anything else.
    for (const auto& f : fields) {
      if (!internal::IEq(f.name, "connection")) continue;
      for (auto e : internal::Elements(f.value)) {
        for (char c : e) {
          if (!internal::IsTchar(static_cast<unsigned char>(c))) return fail(400);
        }
      }
    }
    size_t hosts = 0, lengths = 0, encodings = 0;
    std::string length_value;
    std::vector<std::string_view> codings;
    for (const auto& f : fields) {
      if (internal::IEq(f.name, "host")) ++hosts;
      if (internal::IEq(f.name, "content-length")) {
        ++lengths;
        length_value = f.value;
      }
      if (internal::IEq(f.name, "transfer-encoding")) {
        ++encodings;
        for (auto e : internal::Elements(f.value)) codings.push_back(e);
      }
    }
    uint64_t length = 0;
    // Beyond these the rules refuse the head; the order is the server's: the parser's own
    // Content-Length checks first, then Host, then framing.
    if (lengths > 0) {
      // Several fields, a list, or anything but digits: the value is not one valid length.
      for (const auto& f : fields) {
        if (!internal::IEq(f.name, "content-length")) continue;
        if (!internal::Decimal(f.value, &length)) return fail(400);
      }
      if (lengths > 1) return fail(400);
      if (encodings == 0 && length > max_body_bytes) return fail(413);
    }
    if (hosts > 1 || (hosts == 0 && v >= 11)) return fail(400);
    bool chunked = false;
    if (encodings > 0) {
      if (v < 11 || lengths > 0) return fail(400);
      if (!internal::IEq(codings.back(), "chunked")) return fail(400);
      for (size_t i = 0; i + 1 < codings.size(); ++i) {
        if (internal::IEq(codings[i], "chunked")) return fail(400);
      }
      if (codings.size() > 1) return fail(501);
      chunked = true;
    }

    Request request{std::string(method), std::string(target), ""};
    if (chunked) {
      for (;;) {
        std::string_view size_line;
        p = internal::Line(in, &pos, &size_line);
        if (p == Parse::kError) return fail(400);
        if (p == Parse::kIncomplete) return cut();
        size_t i = 0;
        uint64_t size = 0;
        while (i < size_line.size() && internal::HexDigit(size_line[i]) >= 0) {
          if (size > (UINT64_MAX >> 4)) return fail(400);
          size = size * 16 + static_cast<uint64_t>(internal::HexDigit(size_line[i]));
          ++i;
        }
        if (i == 0 || !internal::ChunkExtensions(size_line.substr(i))) return fail(400);
        if (size == 0) break;
        if (size > max_body_bytes - request.body.size()) return fail(413);
        if (in.size() - pos < size) return cut();
        request.body.append(in.substr(pos, size));
        pos += size;
        if (in.size() - pos < 2) return cut();
        if (in.substr(pos, 2) != "\r\n") return fail(400);
        pos += 2;
      }
      // Trailers are parsed for framing, then dropped; framing fields are refused there.
      std::vector<internal::Field> trailers;
      p = internal::Fields(in, &pos, &trailers);
      if (p == Parse::kError) return fail(400);
      if (p == Parse::kIncomplete) return cut();
      for (const auto& f : trailers) {
        if (internal::IEq(f.name, "content-length") || internal::IEq(f.name, "transfer-encoding")) {
          return fail(400);
        }
      }
    } else if (length > 0) {
      if (in.size() - pos < length) return cut();
      request.body = std::string(in.substr(pos, length));
      pos += length;
    }
    out.requests.push_back(std::move(request));
  }
  return out;
}

// Generates one stream of 1..4 requests from `rng`, most well-formed, some with framing faults,
// folding, stray bytes, or cut short.
template <class Rng>
std::string Generate(Rng& rng) {
  auto pick = [&](uint64_t n) { return static_cast<size_t>(rng() % n); };
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  auto body_of = [&](size_t n) {
    std::string b;
    static constexpr std::string_view kAlphabet("abcdefXYZ{}\r\n 0123456789;:,\"\0", 29);
    for (size_t i = 0; i < n; ++i) b += kAlphabet[pick(kAlphabet.size())];
    return b;
  };
  static const char* kTe[] = {"chunked",       "Chunked",       " chunked ",         "gzip",
                              "chunked, gzip", "gzip, chunked", "chunked, chunked",  "identity",
                              "chunked,",      ",chunked",      "x-custom, chunked", ""};
  static const char* kExt[] = {"",    ";a",  ";a=b",   "; a = b", ";a=\"q\\\"x\"", ";a=\"open",
                               "; ;", ";=b", ";a=b;c", "\t;a",    ";a=",           " "};
  std::string out;
  const size_t requests = 1 + pick(4);
  for (size_t r = 0; r < requests; ++r) {
    const char* methods[] = {"POST", "GET", "PUT", "G@T"};
    std::string head = methods[chance(97) ? pick(3) : 3];
    head += ' ';
    head += chance(98) ? "/v1/discard" : "/a b";
    head += chance(90) ? " HTTP/1.1\r\n" : (chance(80) ? " HTTP/1.0\r\n" : " HTTP/1.1\n");
    const int hosts = chance(90) ? 1 : (chance(50) ? 0 : 2);
    for (int h = 0; h < hosts; ++h) head += "Host: example\r\n";
    if (chance(5)) head += "X-Fold: a\r\n b\r\n";
    if (chance(3)) head += "X-Bad : a\r\n";
    std::string body = body_of(pick(40));
    std::string framed;
    const size_t framing = pick(10);
    if (framing == 0) {
      body.clear();
    } else if (framing <= 4) {  // Content-Length, sometimes wrong or malformed.
      size_t declared = body.size();
      if (chance(10)) declared = pick(50);
      const size_t style = pick(20);
      std::string v = std::to_string(declared);
      if (style == 0) v = v + ", " + v;
      if (style == 1) v = "+" + v;
      if (style == 2) v = " " + v + " ";
      if (style == 3) v = "0x" + v;
      head += "Content-Length: " + v + "\r\n";
      if (style == 4) head += "Content-Length: " + std::to_string(declared) + "\r\n";
      if (style == 5) head += "Transfer-Encoding: chunked\r\n";
      framed = body;
    } else {  // Transfer-Encoding.
      const size_t te = chance(70) ? 0 : pick(sizeof(kTe) / sizeof(kTe[0]));
      head += std::string("Transfer-Encoding: ") + kTe[te] + "\r\n";
      if (chance(5)) head += "Transfer-Encoding: chunked\r\n";
      if (chance(5)) head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      size_t at = 0;
      while (at < body.size()) {
        const size_t n = std::min(body.size() - at, 1 + pick(16));
        char hex[32];
        std::snprintf(hex, sizeof(hex), chance(50) ? "%zx" : "%zX", n);
        if (chance(5)) framed += "00";
        framed += hex;
        framed += chance(85) ? "" : kExt[pick(sizeof(kExt) / sizeof(kExt[0]))];
        framed += "\r\n";
        framed += body.substr(at, n);
        framed += chance(98) ? "\r\n" : "\n";
        at += n;
      }
      framed += "0";
      framed += chance(90) ? "" : kExt[pick(sizeof(kExt) / sizeof(kExt[0]))];
      framed += "\r\n";
      if (chance(5)) framed += "Content-Length: 5\r\n";
      if (chance(20)) framed += "Authorization: Bearer t\r\nX-Trailer: a\r\n b\r\n";
      if (chance(3)) framed += "Bad Trailer\r\n";
      framed += "\r\n";
    }
    head += "\r\n";
    out += head + framed;
    if (chance(3)) out += "\r\n";  // A stray empty line between requests.
  }
  if (chance(10)) out.resize(pick(out.size() + 1));  // Cut short.
  if (chance(5) && !out.empty()) out[pick(out.size())] = static_cast<char>(rng() & 0xff);
  return out;
}

}  // namespace modelmon::strict_http

#endif  // MODELMON_TESTS_SERVER_STRICT_HTTP_H_
