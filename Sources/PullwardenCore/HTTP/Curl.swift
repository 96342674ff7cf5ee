#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CCurl

/// Whether this process can make HTTP requests. libcurl loads only into a dynamically linked
/// process (CCurl.h): the statically linked `pullwarden` hands every call that needs HTTP to
/// `pullwarden-dynamic` instead (`ProvideRun.run`'s `handOff`).
public enum HTTPSupport {
  public static var isAvailable: Bool { CCurl_loadable() != 0 }
}

/// libcurl, loaded on first use.
///
/// Only code paths that make HTTP requests call `load()`, so a `provide` run that reads files never
/// maps libcurl or the 30-odd libraries it depends on.
enum Curl {
  /// Loads libcurl once per process; later calls return the first outcome.
  ///
  /// - Returns: nil when it is loaded, else a one-line reason (missing library, too old).
  static func load() -> String? {
    _ = environmentCleared
    var buffer = [CChar](repeating: 0, count: 512)
    if CCurl_load(&buffer, buffer.count) == 1 { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Environment variables libcurl or OpenSSL would read to weaken or disclose TLS, removed from this
  /// process before libcurl (and through it OpenSSL) is loaded. The kubelet passes its environment on
  /// to plugins, so a variable set for debugging on a node must not reach a root process holding
  /// tokens:
  /// - `SSLKEYLOGFILE`: libcurl writes every TLS session's secrets to that file.
  /// - `OPENSSL_CONF`, `OPENSSL_CONF_INCLUDE`: an OpenSSL config can lower the security level, enable
  ///   old protocols and ciphers, and load engines or providers (code) into the process.
  /// - `OPENSSL_ENGINES`, `OPENSSL_MODULES`: where OpenSSL loads engine and provider code from.
  /// - `SSL_CERT_FILE`, `SSL_CERT_DIR`: replace the trust store OpenSSL falls back to; trust comes only
  ///   from the config's `caFile` (or a kubeconfig's CA) or the system store.
  /// - `CURL_CA_BUNDLE`: the same for libcurl builds that read it.
  /// - `CURL_SSL_BACKEND`: picks another TLS library in builds that carry several.
  /// - `OPENSSL_TRACE`: debug tracing of OpenSSL internals to stderr.
  /// Proxy variables (`https_proxy`, `no_proxy`, ...) stay: they are documented configuration.
  static let clearedEnvironment = [
    "SSLKEYLOGFILE", "OPENSSL_CONF", "OPENSSL_CONF_INCLUDE", "OPENSSL_ENGINES", "OPENSSL_MODULES", "SSL_CERT_FILE",
    "SSL_CERT_DIR", "CURL_CA_BUNDLE", "CURL_SSL_BACKEND", "OPENSSL_TRACE",
  ]

  /// Clears `clearedEnvironment` once, on the first `load()` and so before libcurl's threads exist
  /// (unsetenv is not safe while other threads read the environment).
  private static let environmentCleared: Void = {
    for name in clearedEnvironment { unsetenv(name) }
  }()

  /// curl's short English text for a result code, e.g. "Couldn't connect to server".
  static func describe(_ code: CURLcode) -> String { String(cString: CCurl_easy_strerror(code)) }
}

/// The one owner of a curl easy handle (one transfer) and of the error buffer libcurl writes into;
/// both are freed when the owner goes away, the handle first.
///
/// A class rather than a non-copyable struct because the multi loop keeps transfers in arrays and
/// finds them by handle. The buffer lives here, not with the transfer, so it cannot be freed while the
/// handle still points at it (`CURLOPT_ERRORBUFFER` is kept, not copied).
final class CurlEasy {
  let handle: UnsafeMutableRawPointer
  private let errorBuffer: UnsafeMutablePointer<CChar>
  private static let errorBufferSize = Int(CURL_ERROR_SIZE) + 1

  /// nil when libcurl could not allocate a handle.
  init?() {
    guard let handle = CCurl_easy_init() else { return nil }
    self.handle = handle
    errorBuffer = .allocate(capacity: Self.errorBufferSize)
    errorBuffer.initialize(repeating: 0, count: Self.errorBufferSize)
    // Cannot fail for a valid handle; if it did, errorText would only stay nil.
    _ = CCurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
  }

  deinit {
    CCurl_easy_cleanup(handle)
    errorBuffer.deallocate()
  }

  /// libcurl's detailed message for the transfer's error, printable ASCII only; nil when it left none.
  var errorText: String? {
    let bytes = UnsafeRawBufferPointer(start: errorBuffer, count: Int(CURL_ERROR_SIZE)).prefix { $0 != 0 }
    let text = String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: " ") }, as: UTF8.self)
      .trimmingASCIIWhitespace()
    return text.isEmpty ? nil : text
  }

  /// Sets a long-valued option; the result is checked by `check` at the call site.
  func set(_ option: CURLoption, _ value: Int) -> CURLcode { CCurl_easy_setopt_long(handle, option, value) }

  func set(_ option: CURLoption, offset value: Int64) -> CURLcode { CCurl_easy_setopt_offset(handle, option, curl_off_t(value)) }

  /// Sets a string option; libcurl copies the text, so the Swift string may go away afterwards.
  func set(_ option: CURLoption, _ value: String) -> CURLcode {
    value.withCString { CCurl_easy_setopt_string(handle, option, $0) }
  }

  /// Sets a blob option; libcurl copies the bytes.
  func set(_ option: CURLoption, blob: [UInt8]) -> CURLcode {
    blob.withUnsafeBytes { CCurl_easy_setopt_blob(handle, option, $0.baseAddress, $0.count) }
  }

  /// Sets a bytes option libcurl copies at once (`CURLOPT_COPYPOSTFIELDS`, after
  /// `CURLOPT_POSTFIELDSIZE_LARGE` says how many), so the array need not outlive the call.
  ///
  /// An empty body still passes a real address (of one byte libcurl never reads): NULL does not mean
  /// "empty" to libcurl, and an invented address is undefined behaviour.
  func set(_ option: CURLoption, copying bytes: [UInt8]) -> CURLcode {
    let storage = bytes.isEmpty ? [0] : bytes
    return storage.withUnsafeBytes { CCurl_easy_setopt_pointer(handle, option, UnsafeMutableRawPointer(mutating: $0.baseAddress!)) }
  }

  func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) -> CURLcode {
    CCurl_easy_setopt_pointer(handle, option, value)
  }

  func set(_ option: CURLoption, list: CurlStringList) -> CURLcode {
    CCurl_easy_setopt_slist(handle, option, list.head)
  }

  func set(_ option: CURLoption, callback: curl_write_callback) -> CURLcode {
    CCurl_easy_setopt_callback(handle, option, callback)
  }

  /// A long-valued CURLINFO, or nil when libcurl has none.
  func info(_ info: CURLINFO) -> Int? {
    var value = 0
    return CCurl_easy_getinfo_long(handle, info, &value) == CURLE_OK ? value : nil
  }
}

/// The one owner of a `curl_slist` (request header lines); freed as a whole when the owner goes away.
///
/// libcurl reads the list during the transfer without copying it, so it must outlive the easy handle's
/// use of it: transfers keep their list beside their handle.
final class CurlStringList {
  private(set) var head: UnsafeMutablePointer<curl_slist>?

  init(_ lines: [String]) {
    for line in lines {
      // curl_slist_append copies the text; on allocation failure it returns NULL and leaves the list.
      if let appended = line.withCString({ CCurl_slist_append(head, $0) }) { head = appended }
    }
  }

  deinit { CCurl_slist_free_all(head) }
}

/// The one owner of a curl multi handle, which runs several transfers at once on this thread.
final class CurlMulti {
  let handle: UnsafeMutableRawPointer

  init?() {
    guard let handle = CCurl_multi_init() else { return nil }
    self.handle = handle
  }

  deinit { CCurl_multi_cleanup(handle) }

  func add(_ easy: CurlEasy) -> CURLMcode { CCurl_multi_add_handle(handle, easy.handle) }

  func remove(_ easy: CurlEasy) { _ = CCurl_multi_remove_handle(handle, easy.handle) }

  /// Drives every added transfer as far as it can go without blocking.
  func perform() -> CURLMcode {
    var running: Int32 = 0
    return CCurl_multi_perform(handle, &running)
  }

  /// Waits until a transfer has something to do or `milliseconds` pass (also with no transfers added).
  func poll(milliseconds: Int) -> CURLMcode {
    var ready: Int32 = 0
    return CCurl_multi_poll(handle, Int32(clamping: milliseconds), &ready)
  }

  /// The next finished transfer's handle and result.
  func nextDone() -> (handle: UnsafeMutableRawPointer, result: CURLcode)? {
    var easy: UnsafeMutableRawPointer?
    var result = CURLE_OK
    guard CCurl_multi_next_done(handle, &easy, &result) == 1, let easy else { return nil }
    return (easy, result)
  }

  static func describe(_ code: CURLMcode) -> String { String(cString: CCurl_multi_strerror(code)) }
}
