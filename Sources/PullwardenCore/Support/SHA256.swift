import CLibmd

/// SHA-256 by libmd (linked statically; why libmd rather than swift-crypto or OpenSSL is in
/// docs/design-decisions.md). A value type: the C context is a plain struct with no heap state, so
/// there is nothing to free and copying a hasher copies its state.
public struct SHA256: Sendable {
  public static let digestLength = 32

  private var context = SHA2_CTX()

  public init() {
    SHA256Init(&context)
  }

  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { SHA256Update(&context, $0.baseAddress, $0.count) }
  }

  public mutating func update(_ text: String) {
    update(Array(text.utf8))
  }

  /// The 32-byte digest; the hasher must not be used afterwards.
  public mutating func finalize() -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: Self.digestLength)
    digest.withUnsafeMutableBufferPointer { SHA256Final($0.baseAddress, &context) }
    return digest
  }

  public static func hash(_ bytes: [UInt8]) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(bytes)
    return hasher.finalize()
  }

  /// Lower-case hex of the digest of `bytes`, as Go's `%x` of `sha256.Sum256`.
  public static func hex(_ bytes: [UInt8]) -> String {
    Hex.lowercase(hash(bytes))
  }
}

/// Lower-case hex, as Go's `%x` and `hex.EncodeToString`: the one hex encoder of digests.
public enum Hex {
  public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
    let digits: StaticString = "0123456789abcdef"
    var output: [UInt8] = []
    output.reserveCapacity(bytes.underestimatedCount * 2)
    digits.withUTF8Buffer { digits in
      for byte in bytes {
        output.append(digits[Int(byte >> 4)])
        output.append(digits[Int(byte & 0x0F)])
      }
    }
    return String(decoding: output, as: UTF8.self)
  }
}
