/// Loads YAML (or JSON) files into `Document`s, for config files and Kubernetes objects saved by
/// `kubectl get -o yaml`.
///
/// libyaml parses (through the CYAML shim, one event at a time); this file composes its events into
/// `JSONValue`s, typing plain scalars by a `YAMLSchema`: the YAML 1.2 core schema for Pullwarden's own
/// config, go-yaml v2's rules for Secrets and kubeconfig files, which Kubernetes tools read that way.
/// The work is linear in the input: aliases share the anchored value instead of copying it, mapping
/// keys are checked for duplicates through a set, nesting is bounded, and what aliases expand to is
/// bounded per file. Error messages never quote the input text: a Secret file's syntax error must not
/// echo its data.
public enum YAMLLoader {
  /// Most values a file may expand to, all its documents together; aliases can otherwise multiply a
  /// small file without bound (a budget per document let 200 small alias bombs cost 29 s).
  static let nodeBudget = 1_000_000
  /// Deepest nesting of sequences and mappings: far beyond any config or Secret, and far below what
  /// code that walks the result recursively (equality, encoding, release) can take on its stack.
  static let depthLimit = 512

  /// Every document in `bytes` (YAML streams may hold several, separated by `---`).
  ///
  /// A file whose first non-blank character is `{` or `[` is parsed as JSON by jansson instead, which
  /// is faster and reports JSON's own errors.
  ///
  /// - Parameter firstLine: the line of the file `bytes` start on (YAML errors count from it); the
  ///   documents' own positions (`Document.location`) assume 1.
  public static func documents(
    _ bytes: [UInt8], name: String, kind: PullwardenError.Kind, schema: YAMLSchema = .core, firstLine: Int = 1
  ) throws(PullwardenError) -> [Document] {
    if let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
      first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    {
      return [Document(name: name, kind: kind, root: try JSON.parse(bytes, document: name, kind: kind))]
    }
    guard String(validating: bytes, as: UTF8.self) != nil else {
      throw PullwardenError(kind, "file is not valid UTF-8 text", at: name)
    }
    var parser = LibYAMLParser(bytes, firstLine: firstLine)
    var composer = Composer(schema: schema, kind: kind, name: name)
    var documents: [Document] = []
    while let root = try composer.nextDocument(&parser) {
      documents.append(
        Document(name: name, kind: kind, root: root, yamlSource: (bytes, documents.count, schema)))
    }
    return documents
  }

  /// Exactly one document: an empty file or a multi-document stream is an error.
  public static func document(
    _ bytes: [UInt8], name: String, kind: PullwardenError.Kind, schema: YAMLSchema = .core
  ) throws(PullwardenError) -> Document {
    let all = try documents(bytes, name: name, kind: kind, schema: schema)
    guard all.count == 1 else {
      throw PullwardenError(kind, all.isEmpty ? "file is empty" : "file holds \(all.count) YAML documents, expected one", at: name)
    }
    return all[0]
  }

  // MARK: Composing values from events

  /// Builds one document's value from events with an explicit stack (no recursion, so nesting costs
  /// heap, not stack). Anchors are per document, as in YAML; the budget is per file.
  private struct Composer {
    let schema: YAMLSchema
    let kind: PullwardenError.Kind
    let name: String
    var budget = YAMLLoader.nodeBudget
    var anchors: [String: Anchored] = [:]

    struct Anchored {
      var value: JSONValue
      /// How many values it expands to (itself included): what each alias to it costs.
      var cost: Int
      /// Its JSON key when it is a scalar, so an alias can be a mapping key.
      var key: String?
    }

    /// A collection being filled.
    struct Frame {
      var isMapping: Bool
      var elements: [JSONValue] = []
      var object = JSONObject()
      /// Keys seen so far, once the mapping is large enough for a linear scan to matter.
      var keySet: Set<String>?
      /// The key whose value comes next (mappings); nil while a key is expected.
      var pendingKey: (text: String, mark: YAMLMark, merge: Bool)?
      var anchor: String?
      var budgetAtStart: Int
      var mark: YAMLMark
    }

    func error(_ what: String, at mark: YAMLMark?) -> PullwardenError {
      PullwardenError(kind, what, at: name + (mark.map { ":" + $0.text } ?? ""))
    }

    mutating func charge(_ cost: Int, at mark: YAMLMark) throws(PullwardenError) {
      budget -= cost
      if budget < 0 {
        throw error("file expands to more than \(YAMLLoader.nodeBudget) values (aliases?)", at: mark)
      }
    }

    mutating func next(_ parser: inout LibYAMLParser) throws(PullwardenError) -> YAMLEvent {
      do {
        return try parser.next()
      } catch {
        throw self.error("invalid YAML: \(error.message)", at: error.mark)
      }
    }

    /// The next document's value, or nil at the end of the stream.
    mutating func nextDocument(_ parser: inout LibYAMLParser) throws(PullwardenError) -> JSONValue? {
      switch try next(&parser) {
      case .streamEnd: return nil
      case .documentStart: break
      default: throw error("invalid YAML: unexpected event outside a document", at: nil)
      }
      anchors = [:]
      let root = try node(&parser)
      guard case .documentEnd = try next(&parser) else {
        throw error("invalid YAML: unexpected event at the end of a document", at: nil)
      }
      return root
    }

    /// One complete node (with everything inside it).
    mutating func node(_ parser: inout LibYAMLParser) throws(PullwardenError) -> JSONValue {
      var stack: [Frame] = []
      while true {
        let event = try next(&parser)
        let completed: JSONValue
        var completedAnchor: (name: String, cost: Int, key: String?)?
        switch event {
        case .scalar(let text, let plain, let tag, let anchor, let mark):
          if stack.last?.isMapping == true && stack[stack.count - 1].pendingKey == nil {
            try charge(1, at: mark)
            guard let key = schema.key(text, plain: plain && tag == nil) else {
              throw error("a null mapping key is not supported", at: mark)
            }
            if let anchor {
              anchors[anchor] = Anchored(value: try scalar(text, plain: plain, tag: tag, at: mark), cost: 1, key: key)
            }
            let merge = schema == .kubernetes && plain && tag == nil && text == "<<"
            stack[stack.count - 1].pendingKey = (key, mark, merge)
            continue
          }
          try charge(1, at: mark)
          completed = try scalar(text, plain: plain, tag: tag, at: mark)
          if let anchor { completedAnchor = (anchor, 1, schema.key(text, plain: plain && tag == nil)) }
        case .alias(let anchor, let mark):
          guard let anchored = anchors[anchor] else { throw error("undefined alias", at: mark) }
          try charge(anchored.cost, at: mark)
          if stack.last?.isMapping == true && stack[stack.count - 1].pendingKey == nil {
            guard let key = anchored.key else { throw error("mapping keys must be plain strings", at: mark) }
            stack[stack.count - 1].pendingKey = (key, mark, false)
            continue
          }
          completed = anchored.value
        case .sequenceStart(let anchor, let mark), .mappingStart(let anchor, let mark):
          if stack.last?.isMapping == true && stack[stack.count - 1].pendingKey == nil {
            throw error("mapping keys must be plain strings", at: mark)
          }
          if stack.count >= YAMLLoader.depthLimit {
            throw error("nested more than \(YAMLLoader.depthLimit) levels deep", at: mark)
          }
          let startBudget = budget
          try charge(1, at: mark)
          var isMapping = false
          if case .mappingStart = event { isMapping = true }
          stack.append(Frame(isMapping: isMapping, anchor: anchor, budgetAtStart: startBudget, mark: mark))
          continue
        case .sequenceEnd, .mappingEnd:
          guard let frame = stack.popLast() else { throw error("invalid YAML: unbalanced collection", at: nil) }
          completed = frame.isMapping ? .object(frame.object) : .array(frame.elements)
          if let anchor = frame.anchor { completedAnchor = (anchor, frame.budgetAtStart - budget, nil) }
        case .documentStart, .documentEnd, .streamEnd:
          throw error("invalid YAML: document ended inside a value", at: nil)
        }
        if let completedAnchor {
          anchors[completedAnchor.name] = Anchored(value: completed, cost: completedAnchor.cost, key: completedAnchor.key)
        }
        guard !stack.isEmpty else { return completed }
        try add(completed, to: &stack[stack.count - 1])
      }
    }

    /// Appends to a sequence, or sets the pending key of a mapping (merging for `<<`).
    func add(_ value: JSONValue, to frame: inout Frame) throws(PullwardenError) {
      guard frame.isMapping else {
        frame.elements.append(value)
        return
      }
      guard let key = frame.pendingKey else { return }
      frame.pendingKey = nil
      if key.merge {
        // go-yaml: `<<: mapping` or `<<: [mapping, …]` (the later ones first); its strict mode
        // reports a key that the mapping already has, which the duplicate check below does too.
        let sources: [JSONValue]
        switch value {
        case .object: sources = [value]
        case .array(let list) where list.allSatisfy({ if case .object = $0 { true } else { false } }):
          sources = list.reversed()
        default:
          throw error("a merge key (<<) must be followed by a mapping or a list of mappings", at: key.mark)
        }
        for case .object(let object) in sources {
          for member in object.members { try insert(member.key, member.value, into: &frame, at: key.mark) }
        }
        return
      }
      try insert(key.text, value, into: &frame, at: key.mark)
    }

    func insert(_ key: String, _ value: JSONValue, into frame: inout Frame, at mark: YAMLMark) throws(PullwardenError) {
      let duplicate: Bool
      if var keys = frame.keySet {
        duplicate = !keys.insert(key).inserted
        frame.keySet = keys
      } else {
        duplicate = frame.object.members.contains { $0.key == key }
        if frame.object.count >= 16 { frame.keySet = Set(frame.object.keys + [key]) }
      }
      if duplicate { throw error("duplicate key \"\(key)\"", at: mark) }
      frame.object.appendUnchecked(key, value)
    }

    /// A scalar's value: tags first (`!!str` and `!` make a string, `!!int` and friends must fit),
    /// then the schema for plain scalars; quoted and block scalars are strings.
    func scalar(_ text: String, plain: Bool, tag: String?, at mark: YAMLMark) throws(PullwardenError) -> JSONValue {
      guard let tag else { return plain ? schema.resolvePlain(text) : .string(text) }
      let value = schema.resolvePlain(text)
      switch (tag, value) {
      case ("tag:yaml.org,2002:null", .null), ("tag:yaml.org,2002:bool", .bool), ("tag:yaml.org,2002:int", .integer),
        ("tag:yaml.org,2002:float", .real):
        return value
      case ("tag:yaml.org,2002:float", .integer(let integer)):
        return .real(Double(integer))
      case ("tag:yaml.org,2002:null", _), ("tag:yaml.org,2002:bool", _), ("tag:yaml.org,2002:int", _),
        ("tag:yaml.org,2002:float", _):
        let short = "!!" + tag.dropFirst("tag:yaml.org,2002:".count)
        throw error("value does not match its tag \(short) (found \(value.typeName))", at: mark)
      default:
        // `!!str`, the non-specific `!`, and tags of our own (`!secret`): the text, as go-yaml does.
        return .string(text)
      }
    }
  }

  // MARK: Positions, for error messages

  /// Line and column (1-based) of the value at `path` in document `index`: the key's position for an
  /// object member, the element's for a list item, else the deepest enclosing value found. Only
  /// called to word an error message, so it parses the text again rather than keeping positions.
  static func position(
    of path: JSONPath, inDocument index: Int, of bytes: [UInt8], schema: YAMLSchema
  ) -> (line: Int, column: Int)? {
    var parser = LibYAMLParser(bytes)
    var document = 0
    let target = path.components
    // The containers open around the current event; `state` (matched) when its path is a prefix of `target`.
    var stack: [OpenCollection<Bool>] = []
    var best: YAMLMark?
    while let event = try? parser.next() {
      switch event {
      case .streamEnd:
        return best.map { ($0.line, $0.column) }
      case .documentStart, .documentEnd:
        if case .documentEnd = event {
          if document == index { return best.map { ($0.line, $0.column) } }
          document += 1
        }
        continue
      default:
        break
      }
      guard document == index else { continue }
      // A key of the innermost mapping: remember it, and its position when it is the next step.
      if var top = stack.last, top.isMapping, top.key == nil {
        switch event {
        case .scalar(let text, let plain, let tag, _, let mark):
          top.key = schema.key(text, plain: plain && tag == nil) ?? ""
          if top.state, stack.count <= target.count, case .key(let wanted) = target[stack.count - 1], wanted == top.key {
            best = mark
            if stack.count == target.count { return (mark.line, mark.column) }
          }
          stack[stack.count - 1] = top
          continue
        case .alias:
          stack[stack.count - 1].key = ""
          continue
        case .mappingEnd:
          break
        default:
          // A collection as a key: never composed (it is an error), so never looked up.
          stack[stack.count - 1].key = ""
        }
      }
      // A value: which step of the path it is, and whether it is on the path.
      var onPath = stack.isEmpty
      let mark = event.valueMark
      if let top = stack.last, mark != nil {
        let depth = stack.count - 1
        if top.state, depth < target.count {
          switch target[depth] {
          case .key(let wanted): onPath = top.isMapping && top.key == wanted
          case .index(let wanted): onPath = !top.isMapping && top.count == wanted
          }
        } else {
          onPath = false
        }
      }
      if let mark, onPath {
        if stack.isEmpty || stack.last?.isMapping == false { best = mark }
        if stack.count == target.count { return (mark.line, mark.column) }
      }
      stack.advance(past: event, opening: onPath)
    }
    return best.map { ($0.line, $0.column) }
  }
}
