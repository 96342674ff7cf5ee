import Yams

/// Loads YAML (or JSON) files into `Document`s with the position of every value, for config files and
/// Kubernetes objects saved by `kubectl get -o yaml`.
///
/// Yams parses; this file turns its node tree into `JSONValue` with YAML 1.2 core-schema typing of plain
/// scalars (`true`, `3`, `null` are typed; quoted scalars are always strings). Yams' own tag resolver is
/// not used: it compiles regular expressions through Foundation at first use, which costs start-up.
/// Error messages never quote the input text: a Secret file's syntax error must not echo its data.
public enum YAMLLoader {
  /// Most values a file may expand to, all its documents together; aliases can otherwise multiply a
  /// small file without bound (a budget per document let 200 small alias bombs cost 29 s).
  static let nodeBudget = 1_000_000

  /// Every document in `bytes` (YAML streams may hold several, separated by `---`).
  ///
  /// A file whose first non-blank character is `{` or `[` is parsed as JSON by jansson instead, which
  /// is stricter (duplicate keys) and faster.
  public static func documents(
    _ bytes: [UInt8], name: String, kind: PullwardenError.Kind
  ) throws(PullwardenError) -> [Document] {
    if let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
      first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    {
      return [Document(name: name, kind: kind, root: try JSON.parse(bytes, document: name, kind: kind))]
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw PullwardenError(kind, "file is not valid UTF-8 text", at: name)
    }
    var documents: [Document] = []
    do {
      let parser = try makeParser(text)
      var converter = Converter()
      while let node = try parser.nextRoot() {
        let root = try converter.convert(node)
        documents.append(Document(name: name, kind: kind, root: root, yamlSource: (bytes, documents.count)))
      }
    } catch let error as PullwardenError {
      throw PullwardenError(kind, error.what, at: name + (error.location.map { ":" + $0 } ?? ""))
    } catch let error as YamlError {
      throw PullwardenError(kind, "invalid YAML: \(describe(error))", at: name + locationSuffix(error))
    } catch {
      throw PullwardenError(kind, "invalid YAML", at: name)
    }
    return documents
  }

  /// A parser that only composes nodes: plain string tags, UTF-8, and no Swift-value construction
  /// (Yams' defaults read the environment and build lookup tables at first use).
  private static func makeParser(_ text: String) throws -> Parser {
    try Parser(yaml: text, resolver: .basic, constructor: Constructor([:], [:], [:]), encoding: .utf8)
  }

  /// Line and column (1-based) of the value at `path` in document `index`: the key's position for an
  /// object member, the element's for a list item. Only called to word an error message.
  static func position(of path: JSONPath, inDocument index: Int, of bytes: [UInt8]) -> (line: Int, column: Int)? {
    guard let text = String(validating: bytes, as: UTF8.self), let parser = try? makeParser(text) else { return nil }
    var node: Node?
    for _ in 0...index { node = try? parser.nextRoot() }
    var mark = node?.mark
    for component in path.components {
      switch (component, node) {
      case (.key(let key), .mapping(let mapping)?):
        guard let pair = mapping.first(where: { $0.key.scalar?.string == key }) else { return mark.map { ($0.line, $0.column) } }
        mark = pair.key.mark
        node = pair.value
      case (.index(let position), .sequence(let sequence)?) where position < sequence.count:
        node = sequence[position]
        mark = node?.mark
      default:
        return mark.map { ($0.line, $0.column) }
      }
    }
    return mark.map { ($0.line, $0.column) }
  }

  /// Exactly one document: an empty file or a multi-document stream is an error.
  public static func document(
    _ bytes: [UInt8], name: String, kind: PullwardenError.Kind
  ) throws(PullwardenError) -> Document {
    let all = try documents(bytes, name: name, kind: kind)
    guard all.count == 1 else {
      throw PullwardenError(kind, all.isEmpty ? "file is empty" : "file holds \(all.count) YAML documents, expected one", at: name)
    }
    return all[0]
  }

  // MARK: Node conversion

  private struct Converter {
    var budget = YAMLLoader.nodeBudget

    mutating func convert(_ node: Node) throws -> JSONValue {
      budget -= 1
      if budget < 0 {
        throw PullwardenError(.config, "file expands to more than \(YAMLLoader.nodeBudget) values (aliases?)")
      }
      switch node {
      case .scalar(let scalar):
        return Self.typed(scalar)
      case .sequence(let sequence):
        var elements: [JSONValue] = []
        elements.reserveCapacity(sequence.count)
        for element in sequence {
          elements.append(try convert(element))
        }
        return .array(elements)
      case .mapping(let mapping):
        var object = JSONObject()
        for (keyNode, valueNode) in mapping {
          guard case .scalar(let keyScalar) = keyNode else {
            throw PullwardenError(.config, "mapping keys must be plain strings", at: keyNode.mark.map { "\($0.line):\($0.column)" })
          }
          let key = keyScalar.string
          if object[key] != nil {
            throw PullwardenError(.config, "duplicate key \"\(key)\"", at: keyNode.mark.map { "\($0.line):\($0.column)" })
          }
          object.appendUnchecked(key, try convert(valueNode))
        }
        return .object(object)
      case .alias:
        // Yams' composer replaces aliases with the anchored node; a bare alias means an undefined anchor.
        throw PullwardenError(.config, "undefined alias", at: node.mark.map { "\($0.line):\($0.column)" })
      }
    }

    /// YAML 1.2 core schema for plain scalars; anything quoted or block-styled stays a string.
    static func typed(_ scalar: Node.Scalar) -> JSONValue {
      let text = scalar.string
      guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
      switch text {
      case "", "~", "null", "Null", "NULL": return .null
      case "true", "True", "TRUE": return .bool(true)
      case "false", "False", "FALSE": return .bool(false)
      default: break
      }
      if let integer = parseInteger(text) { return .integer(integer) }
      if isFloat(text), let value = Double(text) { return .real(value) }
      switch text {
      case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .real(.infinity)
      case "-.inf", "-.Inf", "-.INF": return .real(-.infinity)
      case ".nan", ".NaN", ".NAN": return .real(.nan)
      default: return .string(text)
      }
    }

    static func parseInteger(_ text: String) -> Int64? {
      if text.hasPrefix("0x"), text.count > 2 { return Int64(text.dropFirst(2), radix: 16) }
      if text.hasPrefix("0o"), text.count > 2 { return Int64(text.dropFirst(2), radix: 8) }
      var digits = Substring(text)
      if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
      guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { return nil }
      return Int64(text)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    static func isFloat(_ text: String) -> Bool {
      var s = Substring(text)
      if s.first == "-" || s.first == "+" { s = s.dropFirst() }
      let whole = s.prefix(while: \.isASCIIDigit)
      s = s.dropFirst(whole.count)
      var fraction = Substring()
      if s.first == "." {
        s = s.dropFirst()
        fraction = s.prefix(while: \.isASCIIDigit)
        s = s.dropFirst(fraction.count)
      }
      if whole.isEmpty && fraction.isEmpty { return false }
      if let e = s.first, e == "e" || e == "E" {
        s = s.dropFirst()
        if s.first == "-" || s.first == "+" { s = s.dropFirst() }
        let exponent = s.prefix(while: \.isASCIIDigit)
        if exponent.isEmpty { return false }
        s = s.dropFirst(exponent.count)
      }
      return s.isEmpty
    }
  }

  // MARK: Error text without the input

  private static func describe(_ error: YamlError) -> String {
    switch error {
    case .reader(let problem, _, _, _): return problem
    case .scanner(let context, let problem, _, _),
      .parser(let context, let problem, _, _),
      .composer(let context, let problem, _, _):
      return context.map { "\(problem) (\($0.text))" } ?? problem
    case .duplicatedKeysInMapping(let duplicates, _):
      return "duplicate key " + duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
    case .memory: return "out of memory"
    default: return "unreadable document"
    }
  }

  private static func locationSuffix(_ error: YamlError) -> String {
    switch error {
    case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
      return ":\(mark.line):\(mark.column)"
    case .duplicatedKeysInMapping(_, let context):
      return ":\(context.mark.line):\(context.mark.column)"
    default:
      return ""
    }
  }
}
