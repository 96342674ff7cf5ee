/// A JSON document as plain Swift values, produced from jansson (or from YAML) at the edge.
///
/// Objects keep their members in document order and never hold a key twice: jansson rejects
/// duplicate keys while parsing and the YAML loader does the same.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case integer(Int64)
  case real(Double)
  case string(String)
  case array([JSONValue])
  case object(JSONObject)

  /// The JSON type name used in error messages ("string", "number", ...).
  public var typeName: String {
    switch self {
    case .null: return "null"
    case .bool: return "boolean"
    case .integer, .real: return "number"
    case .string: return "string"
    case .array: return "array"
    case .object: return "object"
    }
  }

  public var stringValue: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  public var objectValue: JSONObject? {
    if case .object(let value) = self { return value }
    return nil
  }
}

/// A JSON object with members in insertion order.
///
/// Lookups are linear: the objects Pullwarden reads are small, and order matters more than speed
/// (records and responses are written in the kubelet's field order).
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
  public struct Member: Sendable, Equatable {
    public var key: String
    public var value: JSONValue
  }

  public private(set) var members: [Member]

  public init() { members = [] }

  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    members = []
    for (key, value) in elements { self[key] = value }
  }

  public var isEmpty: Bool { members.isEmpty }
  public var count: Int { members.count }
  public var keys: [String] { members.map(\.key) }

  /// The member's value; setting nil removes it, setting an existing key replaces it in place.
  public subscript(key: String) -> JSONValue? {
    get { members.first { $0.key == key }?.value }
    set {
      if let index = members.firstIndex(where: { $0.key == key }) {
        if let newValue { members[index].value = newValue } else { members.remove(at: index) }
      } else if let newValue {
        members.append(Member(key: key, value: newValue))
      }
    }
  }

  /// Appends without checking for an existing key; callers guarantee uniqueness (parsers do).
  mutating func appendUnchecked(_ key: String, _ value: JSONValue) {
    members.append(Member(key: key, value: value))
  }
}
