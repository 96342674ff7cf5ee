#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CJansson

/// The one owner of a jansson `json_t` reference; the reference is dropped when the owner goes away.
///
/// Non-copyable so a handle can never be released twice. Borrowed children (`json_object_iter_value`,
/// `json_array_get`) are read inside the call that got them and never stored.
struct JanssonHandle: ~Copyable {
  let pointer: UnsafeMutablePointer<json_t>

  /// Takes ownership of a new reference; nil when jansson returned NULL (allocation failure).
  init?(taking pointer: UnsafeMutablePointer<json_t>?) {
    guard let pointer else { return nil }
    self.pointer = pointer
  }

  deinit { CJansson_decref(pointer) }
}

/// Parsing and encoding through libjansson.
public enum JSON {
  /// jansson's hash seed (which keeps tenant-chosen object keys from colliding on purpose), from the
  /// kernel's generator in one `getrandom` call: left to itself, jansson opens, reads and closes
  /// `/dev/urandom` on every start. Set before the first object exists, as jansson requires.
  private static let seeded: Void = {
    var generator = SystemRandomNumberGenerator()
    json_object_seed(Int(truncatingIfNeeded: generator.next()))  // 0 lets jansson seed itself
  }()

  /// Parses `bytes` as one JSON document, strictly: duplicate keys, trailing data and invalid UTF-8
  /// are errors. Errors carry jansson's text with line and column.
  ///
  /// - Parameters:
  ///   - document: how the document is named in errors ("stdin", a file path).
  ///   - kind: which part of the input an error blames.
  public static func parse(
    _ bytes: [UInt8], document: String, kind: PullwardenError.Kind
  ) throws(PullwardenError) -> JSONValue {
    _ = seeded
    var error = json_error_t()
    let parsed = bytes.withUnsafeBufferPointer { buffer in
      buffer.withMemoryRebound(to: CChar.self) { chars in
        json_loadb(chars.baseAddress, chars.count, CJansson_strictDecodeFlags(), &error)
      }
    }
    guard let handle = JanssonHandle(taking: parsed) else {
      throw PullwardenError(kind, "invalid JSON: \(describe(error))", at: location(document, error))
    }
    return value(of: handle.pointer)
  }

  /// Encodes `value` as compact one-line JSON (no trailing newline), members in insertion order.
  public static func encode(_ value: JSONValue) -> [UInt8] {
    _ = seeded
    let handle = JanssonHandle(taking: makeJSON(value))!
    // One pass into a malloc'd string (json_dumpb would need a second pass to learn the size). The
    // output never holds a raw NUL: jansson escapes it as \u0000.
    guard let text = json_dumps(handle.pointer, CJansson_compactEncodeFlags()) else {
      preconditionFailure("jansson could not allocate the encoded JSON")
    }
    defer { free(text) }
    return Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
  }

  // MARK: json_t → JSONValue

  /// Copies a borrowed jansson value into Swift values.
  private static func value(of json: UnsafeMutablePointer<json_t>) -> JSONValue {
    switch CJansson_typeof(json) {
    case JSON_OBJECT:
      var object = JSONObject()
      var iterator = json_object_iter(json)
      while let current = iterator {
        let keyPointer = json_object_iter_key(current)!
        let keyLength = json_object_iter_key_len(current)
        let key = UnsafeRawBufferPointer(start: keyPointer, count: keyLength).withMemoryRebound(to: UInt8.self) {
          String(decoding: $0, as: UTF8.self)
        }
        object.appendUnchecked(key, value(of: json_object_iter_value(current)!))
        iterator = json_object_iter_next(json, current)
      }
      return .object(object)
    case JSON_ARRAY:
      let count = json_array_size(json)
      var elements: [JSONValue] = []
      elements.reserveCapacity(count)
      for index in 0..<count { elements.append(value(of: json_array_get(json, index)!)) }
      return .array(elements)
    case JSON_STRING:
      let length = json_string_length(json)
      let text = UnsafeRawBufferPointer(start: json_string_value(json), count: length).withMemoryRebound(
        to: UInt8.self
      ) { String(decoding: $0, as: UTF8.self) }
      return .string(text)
    case JSON_INTEGER:
      return .integer(Int64(json_integer_value(json)))
    case JSON_REAL:
      return .real(json_real_value(json))
    case JSON_TRUE:
      return .bool(true)
    case JSON_FALSE:
      return .bool(false)
    default:
      return .null
    }
  }

  // MARK: JSONValue → json_t

  /// Builds a new jansson value; the caller owns the returned reference.
  private static func makeJSON(_ value: JSONValue) -> UnsafeMutablePointer<json_t>? {
    switch value {
    case .null:
      return json_null()
    case .bool(let flag):
      return flag ? json_true() : json_false()
    case .integer(let number):
      return json_integer(json_int_t(number))
    case .real(let number):
      return json_real(number)
    case .string(let text):
      var text = text
      return text.withUTF8 { utf8 in
        utf8.withMemoryRebound(to: CChar.self) { json_stringn_nocheck($0.baseAddress, $0.count) }
      }
    case .array(let elements):
      let array = json_array()
      for element in elements { json_array_append_new(array, makeJSON(element)) }
      return array
    case .object(let object):
      let json = json_object()
      for member in object.members {
        var key = member.key
        key.withUTF8 { utf8 in
          utf8.withMemoryRebound(to: CChar.self) {
            _ = json_object_setn_new_nocheck(json, $0.baseAddress, $0.count, makeJSON(member.value))
          }
        }
      }
      return json
    }
  }

  // MARK: Errors

  /// jansson's message without its `near '<token>'` suffix: the token can be part of a password or
  /// token in the document. Duplicate-key messages keep it, since it names the key, not a value.
  private static func describe(_ error: json_error_t) -> String {
    var error = error
    let text = withUnsafeBytes(of: &error.text) { raw in
      String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
    }
    if text.hasPrefix("duplicate object key") { return text }
    let marker = Array(" near ".utf8)
    let bytes = Array(text.utf8)
    guard bytes.count >= marker.count,
      let start = (0...(bytes.count - marker.count)).first(where: { bytes[$0..<$0 + marker.count].elementsEqual(marker) })
    else { return text }
    return String(decoding: bytes[..<start], as: UTF8.self)
  }

  private static func location(_ document: String, _ error: json_error_t) -> String {
    error.line > 0 ? "\(document), line \(error.line), column \(error.column)" : document
  }
}
