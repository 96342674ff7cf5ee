/// A container image reference parsed and normalized the way the kubelet does before it calls a
/// credential provider: docker's `ParseNormalizedNamed`, then `Name()`.
///
/// `nginx:1.25` → domain `docker.io`, path `library/nginx`, tag `1.25`; `name` is
/// `docker.io/library/nginx`, which is exactly the `image` the kubelet sends in a request.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
  /// Registry host with optional port, e.g. `registry.example.com:5000`. Empty in docker's one odd
  /// case: a first component that looks like a domain but is not one, yet fits the path grammar
  /// (`reg_istry.example.com/app`); Go then reads the whole name as a path with no domain.
  public var domain: String
  /// Repository path inside the registry, e.g. `team/app`.
  public var path: String
  public var tag: String?
  public var digest: String?

  /// `domain/path`: the repository, without tag or digest (just `path` when the domain is empty).
  public var name: String { domain.isEmpty ? path : domain + "/" + path }

  public var description: String {
    var text = name
    if let tag { text += ":" + tag }
    if let digest { text += "@" + digest }
    return text
  }

  /// Why a string is not an image reference.
  public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
  }

  /// Parses and normalizes `text` (Docker Hub short names are expanded, `index.docker.io` becomes
  /// `docker.io`). Mirrors distribution/reference `ParseNormalizedNamed`.
  public init(parsing text: String) throws(ParseError) {
    // Works on UTF-8 bytes: every delimiter and every valid character is ASCII, and the verifier
    // parses an image per decision, where Character-level String operations cost ~20x more.
    let bytes = Array(text.utf8)
    if bytes.isEmpty { throw ParseError(reason: "image is empty") }
    if bytes.count == 64 && bytes.allSatisfy(isLowerHex) {
      throw ParseError(reason: "a 64-character hexadecimal string is an image ID, not a repository name")
    }
    let slash = UInt8(ascii: "/"), colon = UInt8(ascii: ":"), at = UInt8(ascii: "@"), dot = UInt8(ascii: ".")
    // Split off the domain the way splitDockerDomain does: the first component is a domain only if
    // it looks like one (has '.' or ':', is "localhost", or has upper case letters).
    var domain: ArraySlice<UInt8> = ArraySlice("docker.io".utf8)
    var remainder = bytes[...]
    if let firstSlash = bytes.firstIndex(of: slash) {
      let first = bytes[..<firstSlash]
      if first.contains(dot) || first.contains(colon) || first.elementsEqual("localhost".utf8)
        || first.contains(where: { $0 >= 0x41 && $0 <= 0x5A })
      {
        domain = first
        remainder = bytes[(firstSlash + 1)...]
      }
    }
    if domain.elementsEqual("index.docker.io".utf8) { domain = ArraySlice("docker.io".utf8) }

    // Tag and digest come after the last path component.
    var digest: ArraySlice<UInt8>?
    if let atIndex = remainder.firstIndex(of: at) {
      digest = remainder[(atIndex + 1)...]
      remainder = remainder[..<atIndex]
    }
    var tag: ArraySlice<UInt8>?
    if let colonIndex = remainder.lastIndex(of: colon), !remainder[colonIndex...].contains(slash) {
      tag = remainder[(colonIndex + 1)...]
      remainder = remainder[..<colonIndex]
    }
    var path = Array(remainder)
    if domain.elementsEqual("docker.io".utf8) && !remainder.contains(slash) && !remainder.isEmpty {
      path = Array("library/".utf8) + path
    }

    if path.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) {
      throw ParseError(reason: "repository name \"\(String(decoding: path, as: UTF8.self))\" must be lowercase")
    }
    if !Self.isValidDomain(domain) {
      // ReferenceRegexp makes the domain optional, so Go falls back to reading "domain/path" as a
      // path alone when that fits the path grammar; its Name() then has no registry part.
      let whole = Array(domain) + [slash] + path
      guard Self.isValidPath(whole[...]) else {
        throw ParseError(reason: "\"\(String(decoding: domain, as: UTF8.self))\" is not a valid registry host")
      }
      domain = []
      path = whole
    }
    guard Self.isValidPath(path[...]) else {
      throw ParseError(reason: "\"\(text)\" is not a valid repository name")
    }
    if (domain.isEmpty ? 0 : domain.count + 1) + path.count > 255 {
      throw ParseError(reason: "repository name is longer than 255 characters")
    }
    if let tag, !Self.isValidTag(tag) {
      throw ParseError(reason: "\"\(String(decoding: tag, as: UTF8.self))\" is not a valid tag")
    }
    if let digest, !Self.isValidDigest(digest) {
      throw ParseError(reason: "\"\(String(decoding: digest, as: UTF8.self))\" is not a valid digest")
    }
    self.domain = String(decoding: domain, as: UTF8.self)
    self.path = String(decoding: path, as: UTF8.self)
    self.tag = tag.map { String(decoding: $0, as: UTF8.self) }
    self.digest = digest.map { String(decoding: $0, as: UTF8.self) }
  }

  // MARK: Grammar (distribution/reference regexp.go)

  /// host [":" port], host being DNS components, an IPv4 address or a bracketed IPv6 address.
  static func isValidDomain(_ domain: ArraySlice<UInt8>) -> Bool {
    let colon = UInt8(ascii: ":")
    var host = domain
    if host.first == UInt8(ascii: "[") {
      guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return false }
      let inner = host[(host.startIndex + 1)..<close]
      guard !inner.isEmpty, inner.allSatisfy({ isHexDigit($0) || $0 == colon || $0 == UInt8(ascii: ".") }) else {
        return false
      }
      host = host[(close + 1)...]
      if host.isEmpty { return true }
      guard host.first == colon else { return false }
      return isPort(host.dropFirst())
    }
    if let colonIndex = host.lastIndex(of: colon) {
      guard isPort(host[(colonIndex + 1)...]) else { return false }
      host = host[..<colonIndex]
    }
    guard !host.isEmpty else { return false }
    return host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { component in
      // [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
      guard let first = component.first, let last = component.last, isAlphanumeric(first), isAlphanumeric(last)
      else { return false }
      return component.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
  }

  static func isValidDomain(_ domain: String) -> Bool { isValidDomain(Array(domain.utf8)[...]) }

  private static func isPort(_ text: ArraySlice<UInt8>) -> Bool {
    !text.isEmpty && text.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
  }

  /// path-component ("/" path-component)*, each `[a-z0-9]+ (separator [a-z0-9]+)*` with separators
  /// `.`, `_`, `__` or one or more `-`.
  static func isValidPath(_ path: ArraySlice<UInt8>) -> Bool {
    guard !path.isEmpty else { return false }
    return path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).allSatisfy { component in
      guard let first = component.first, let last = component.last, isLowerAlnum(first), isLowerAlnum(last) else {
        return false
      }
      var index = component.startIndex
      while index < component.endIndex {
        if isLowerAlnum(component[index]) {
          index += 1
          continue
        }
        // A separator run: ".", "_", "__" or "-"+, always followed by an alphanumeric.
        var end = index
        if component[index] == UInt8(ascii: "-") {
          while end < component.endIndex && component[end] == UInt8(ascii: "-") { end += 1 }
        } else if component[index] == UInt8(ascii: ".") {
          end += 1
        } else if component[index] == UInt8(ascii: "_") {
          end += 1
          if end < component.endIndex && component[end] == UInt8(ascii: "_") { end += 1 }
        } else {
          return false
        }
        guard end < component.endIndex, isLowerAlnum(component[end]) else { return false }
        index = end
      }
      return true
    }
  }

  static func isValidPath(_ path: String) -> Bool { isValidPath(Array(path.utf8)[...]) }

  /// `[\w][\w.-]{0,127}`
  static func isValidTag(_ tag: ArraySlice<UInt8>) -> Bool {
    guard let first = tag.first, tag.count <= 128, isWord(first) else { return false }
    return tag.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
  }

  /// `algorithm ":" hex`, algorithm components `[A-Za-z][A-Za-z0-9]*` joined by `+ . - _`, hex of 32+;
  /// then, as `reference.Parse` calls go-digest's `Digest.Validate`, the algorithm must be one Go
  /// registers (sha256, sha384, sha512) and the hex lower case and exactly that hash's length.
  static func isValidDigest(_ digest: ArraySlice<UInt8>) -> Bool {
    guard let colon = digest.firstIndex(of: UInt8(ascii: ":")) else { return false }
    let algorithm = digest[..<colon]
    let hex = digest[(colon + 1)...]
    guard hex.count >= 32, hex.allSatisfy(isHexDigit) else { return false }
    let hexLength: Int
    switch String(decoding: algorithm, as: UTF8.self) {
    case "sha256": hexLength = 64
    case "sha384": hexLength = 96
    case "sha512": hexLength = 128
    default: return false  // digest.ErrDigestUnsupported
    }
    guard hex.count == hexLength, hex.allSatisfy(isLowerHex) else { return false }
    let separators: [UInt8] = Array("+.-_".utf8)
    return algorithm.split(omittingEmptySubsequences: false, whereSeparator: { separators.contains($0) }).allSatisfy { component in
      guard let first = component.first, (first >= 0x41 && first <= 0x5A) || (first >= 0x61 && first <= 0x7A) else {
        return false
      }
      return component.allSatisfy(isAlphanumeric)
    }
  }
}

private func isHexDigit(_ byte: UInt8) -> Bool {
  isLowerHex(byte) || (byte >= 0x41 && byte <= 0x46)
}

private func isAlphanumeric(_ byte: UInt8) -> Bool {
  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}

private func isLowerHex(_ byte: UInt8) -> Bool {
  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
}

private func isLowerAlnum(_ byte: UInt8) -> Bool {
  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)
}

private func isWord(_ byte: UInt8) -> Bool {
  isLowerAlnum(byte) || (byte >= 0x41 && byte <= 0x5A) || byte == UInt8(ascii: "_")
}

extension Character {
  var isASCIIAlphanumeric: Bool {
    guard let ascii = asciiValue else { return false }
    return (ascii >= 0x30 && ascii <= 0x39) || (ascii >= 0x41 && ascii <= 0x5A) || (ascii >= 0x61 && ascii <= 0x7A)
  }
}
