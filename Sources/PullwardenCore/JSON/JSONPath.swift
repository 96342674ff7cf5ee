/// The position of a value inside a document, printed the way people write it: `sources[0].matchImages[1]`.
public struct JSONPath: Hashable, Sendable, CustomStringConvertible {
  public enum Component: Hashable, Sendable {
    case key(String)
    case index(Int)
  }

  public private(set) var components: [Component]

  public static let root = JSONPath(components: [])

  public init(components: [Component]) { self.components = components }

  public func appending(_ key: String) -> JSONPath { JSONPath(components: components + [.key(key)]) }
  public func appending(_ index: Int) -> JSONPath { JSONPath(components: components + [.index(index)]) }

  public var description: String {
    if components.isEmpty { return "top level" }
    var text = ""
    for component in components {
      switch component {
      case .key(let key):
        let plain = !key.isEmpty && key.utf8.allSatisfy { byte in
          (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        if plain {
          text += text.isEmpty ? key : "." + key
        } else {
          text += "[\"\(key)\"]"
        }
      case .index(let index):
        text += "[\(index)]"
      }
    }
    return text
  }
}

/// A parsed document plus what is needed to say where something in it is: its name, which kind of
/// input it is, and (for YAML) how to find the line and column of a value.
///
/// Positions are looked up only when an error is reported, by parsing the YAML again: keeping a table
/// of every value's position costs more on the kubelet's hot path than the parse itself.
public struct Document: Sendable {
  public var name: String
  public var kind: PullwardenError.Kind
  public var root: JSONValue
  /// The YAML text, which document of the stream this is and how its keys were read; nil for JSON
  /// (no positions).
  var yamlSource: (bytes: [UInt8], index: Int, schema: YAMLSchema)?

  public init(name: String, kind: PullwardenError.Kind, root: JSONValue) {
    self.name = name
    self.kind = kind
    self.root = root
  }

  init(name: String, kind: PullwardenError.Kind, root: JSONValue, yamlSource: (bytes: [UInt8], index: Int, schema: YAMLSchema)) {
    self.init(name: name, kind: kind, root: root)
    self.yamlSource = yamlSource
  }

  /// `file:line:column, at path` when the position is known, else `file, at path`.
  public func location(of path: JSONPath) -> String {
    let position = yamlSource.flatMap { YAMLLoader.position(of: path, inDocument: $0.index, of: $0.bytes, schema: $0.schema) }
    let place = position.map { "\(name):\($0.line):\($0.column)" } ?? name
    return path.components.isEmpty ? place : "\(place), at \(path)"
  }

  public func error(_ what: String, at path: JSONPath) -> PullwardenError {
    PullwardenError(kind, what, at: location(of: path))
  }

  /// The top-level object of a request read from a stream (`kind` `.request`): more than
  /// `sizeLimit` bytes, nothing but white space, invalid JSON or a non-object are errors.
  ///
  /// - Parameter expected: what an empty input should have been, for the error.
  public static func request(
    _ bytes: [UInt8], source: String, sizeLimit: Int, expected: String, describedAs noun: String
  ) throws(PullwardenError) -> ObjectReader {
    if bytes.count > sizeLimit {
      throw PullwardenError(.request, "request is larger than \(ByteCount(sizeLimit))", at: source)
    }
    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
      throw PullwardenError(.request, "no request: expected \(expected)", at: source)
    }
    let document = Document(name: source, kind: .request, root: try JSON.parse(bytes, document: source, kind: .request))
    return try document.rootObject(describedAs: noun)
  }

  /// A reader for the top-level object, or an error naming the document when it is not one.
  public func rootObject(describedAs noun: String) throws(PullwardenError) -> ObjectReader {
    guard case .object(let object) = root else {
      throw error("\(noun) must be a JSON object, found \(root.typeName)", at: .root)
    }
    return ObjectReader(object: object, path: .root, document: self)
  }
}

/// Typed, path-aware access to one JSON object, for decoding documents into Swift types.
///
/// Every accessor that finds the wrong type throws an error naming the field, the expected and the
/// found type, and the place in the document. `null` counts as absent for optional fields (as Go's
/// decoder leaves a field unset), and as the wrong type for required ones.
public struct ObjectReader: Sendable {
  public let object: JSONObject
  public let path: JSONPath
  public let document: Document

  public func error(_ what: String, at key: String? = nil) -> PullwardenError {
    document.error(what, at: key.map { path.appending($0) } ?? path)
  }

  /// Throws for the first key not in `allowed` (our own config files are strict about spelling).
  public func rejectUnknownKeys(_ allowed: [String]) throws(PullwardenError) {
    for key in object.keys where !allowed.contains(key) {
      var message = "unknown key \"\(key)\""
      if let suggestion = closestMatch(to: key, in: allowed) { message += " (did you mean \"\(suggestion)\"?)" }
      throw error(message, at: key)
    }
  }

  public func contains(_ key: String) -> Bool {
    if case .some(.null) = object[key] { return false }
    return object[key] != nil
  }

  // MARK: Strings

  public func string(_ key: String) throws(PullwardenError) -> String? {
    switch object[key] {
    case nil, .null?: return nil
    case .string(let value)?: return value
    case let other?: throw typeError(key, expected: "a string", found: other)
    }
  }

  public func requiredString(_ key: String) throws(PullwardenError) -> String {
    guard let value = try string(key) else {
      if object[key] == .null { throw error("\"\(key)\" must be a string, found null", at: key) }
      throw error("missing required field \"\(key)\"")
    }
    return value
  }

  /// A required string that must not be empty.
  public func requiredNonEmptyString(_ key: String) throws(PullwardenError) -> String {
    let value = try requiredString(key)
    if value.isEmpty { throw error("\"\(key)\" must not be empty", at: key) }
    return value
  }

  public func stringArray(_ key: String) throws(PullwardenError) -> [String]? {
    guard let elements = try array(key) else { return nil }
    var strings: [String] = []
    for (index, element) in elements.enumerated() {
      guard case .string(let value) = element else {
        throw document.error(
          "\"\(key)\" must be a list of strings, item \(index) is \(element.typeName)",
          at: path.appending(key).appending(index))
      }
      strings.append(value)
    }
    return strings
  }

  /// A `map[string]string`, as Kubernetes uses for annotations and Secret data.
  public func stringMap(_ key: String) throws(PullwardenError) -> [String: String]? {
    guard let reader = try self.object(key) else { return nil }
    var map: [String: String] = [:]
    for member in reader.object.members {
      guard case .string(let value) = member.value else {
        throw document.error(
          "\"\(key)\" values must be strings, \"\(member.key)\" is \(member.value.typeName)",
          at: path.appending(key).appending(member.key))
      }
      map[member.key] = value
    }
    return map
  }

  // MARK: Other scalars

  public func bool(_ key: String) throws(PullwardenError) -> Bool? {
    switch object[key] {
    case nil, .null?: return nil
    case .bool(let value)?: return value
    case let other?: throw typeError(key, expected: "true or false", found: other)
    }
  }

  public func integer(_ key: String) throws(PullwardenError) -> Int64? {
    switch object[key] {
    case nil, .null?: return nil
    case .integer(let value)?: return value
    case let other?: throw typeError(key, expected: "an integer", found: other)
    }
  }

  /// A Go duration string such as "5m" or "1h30m".
  public func duration(_ key: String) throws(PullwardenError) -> GoDuration? {
    let text: String
    switch object[key] {
    case nil, .null?: return nil
    case .string(let value)?: text = value
    case let other?: throw typeError(key, expected: "a duration such as \"5m\" or \"1h30m\"", found: other)
    }
    do {
      return try GoDuration(parsing: text)
    } catch {
      throw self.error("\"\(key)\": \(error)", at: key)
    }
  }

  // MARK: Containers

  public func object(_ key: String) throws(PullwardenError) -> ObjectReader? {
    switch object[key] {
    case nil, .null?: return nil
    case .object(let value)?: return ObjectReader(object: value, path: path.appending(key), document: document)
    case let other?: throw typeError(key, expected: "an object", found: other)
    }
  }

  public func array(_ key: String) throws(PullwardenError) -> [JSONValue]? {
    switch object[key] {
    case nil, .null?: return nil
    case .array(let value)?: return value
    case let other?: throw typeError(key, expected: "a list", found: other)
    }
  }

  /// Readers for each element of a list of objects.
  public func objectArray(_ key: String) throws(PullwardenError) -> [ObjectReader]? {
    guard let elements = try array(key) else { return nil }
    var readers: [ObjectReader] = []
    for (index, element) in elements.enumerated() {
      let elementPath = path.appending(key).appending(index)
      guard case .object(let value) = element else {
        throw document.error("\"\(key)\" items must be objects, item \(index) is \(element.typeName)", at: elementPath)
      }
      readers.append(ObjectReader(object: value, path: elementPath, document: document))
    }
    return readers
  }

  private func typeError(_ key: String, expected: String, found: JSONValue) -> PullwardenError {
    error("\"\(key)\" must be \(expected), found \(found.typeName)", at: key)
  }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
func closestMatch(to word: String, in candidates: [String]) -> String? {
  let lowered = Array(word.lowercased().utf8)
  var best: (String, Int)?
  for candidate in candidates {
    let distance = editDistance(lowered, Array(candidate.lowercased().utf8))
    if distance <= max(2, candidate.utf8.count / 3), best == nil || distance < best!.1 {
      best = (candidate, distance)
    }
  }
  return best?.0
}

private func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}
