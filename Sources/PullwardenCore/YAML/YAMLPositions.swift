/// Line and column of many values of one YAML (or JSON) document at once, in one pass over libyaml's
/// events: lint needs the position of every container's `image` in a file, and looking each up with
/// `YAMLLoader.position` would parse the file once per container.
///
/// The wanted paths are kept in a trie, and every open collection remembers its trie node (or none,
/// once off every wanted path), so each event costs one dictionary lookup whatever the nesting depth.
enum YAMLPositions {
  /// The position of the value at each of `paths` in document `index` of `bytes` (the first line of
  /// `bytes` being `firstLine`). Paths not found (through a merge key, or absent) are left out; a
  /// value reached through an alias has the alias's position.
  static func find(
    _ paths: [JSONPath], inDocument index: Int = 0, of bytes: [UInt8], firstLine: Int = 1, schema: YAMLSchema
  ) -> [JSONPath: YAMLMark] {
    var trie = Trie()
    for path in paths { trie.insert(path) }
    var found: [JSONPath: YAMLMark] = [:]
    guard !paths.isEmpty else { return found }

    var parser = LibYAMLParser(bytes, firstLine: firstLine)
    var document = 0
    // Each open collection's trie node; nil when no wanted path goes through it.
    var stack: [OpenCollection<Int?>] = []
    while let event = try? parser.next() {
      switch event {
      case .streamEnd:
        return found
      case .documentStart:
        continue
      case .documentEnd:
        if document == index { return found }
        document += 1
        continue
      default:
        break
      }
      guard document == index else { continue }
      if let top = stack.last, top.isMapping, top.key == nil {
        switch event {
        case .scalar(let text, let plain, let tag, _, _):
          stack[stack.count - 1].key = schema.key(text, plain: plain && tag == nil) ?? ""
          continue
        case .alias:
          stack[stack.count - 1].key = ""
          continue
        default:
          break  // the mapping's end (a collection as a key never composes, so it is never linted)
        }
      }
      var node: Int?
      if let mark = event.valueMark {
        if let top = stack.last {
          if let parent = top.state {
            node = trie.child(parent, top.isMapping ? .key(top.key ?? "") : .index(top.count))
          }
        } else {
          node = 0
        }
        if let node, let path = trie.terminal[node] { found[path] = mark }
      }
      stack.advance(past: event, opening: node)
    }
    return found
  }

  /// Wanted paths, one node per path prefix; node 0 is the root.
  private struct Trie {
    var children: [[JSONPath.Component: Int]] = [[:]]
    /// The whole path for nodes that end one.
    var terminal: [JSONPath?] = [nil]

    mutating func insert(_ path: JSONPath) {
      var node = 0
      for component in path.components {
        if let next = children[node][component] {
          node = next
        } else {
          children.append([:])
          terminal.append(nil)
          children[node][component] = children.count - 1
          node = children.count - 1
        }
      }
      terminal[node] = path
    }

    func child(_ node: Int, _ component: JSONPath.Component) -> Int? { children[node][component] }
  }
}

extension YAMLEvent {
  /// Where a value starts, for the events that start one (a scalar, an alias or a collection).
  var valueMark: YAMLMark? {
    switch self {
    case .scalar(_, _, _, _, let at), .alias(_, let at), .sequenceStart(_, let at), .mappingStart(_, let at): return at
    default: return nil
    }
  }

  /// For a collection's start, whether it is a mapping; nil for every other event.
  var opensMapping: Bool? {
    switch self {
    case .mappingStart: return true
    case .sequenceStart: return false
    default: return nil
    }
  }
}

/// A sequence or mapping open around the current event, while walking libyaml's events for positions.
struct OpenCollection<State> {
  var isMapping: Bool
  /// What the walk keeps per collection (whether it is on the wanted path).
  var state: State
  /// Values seen so far (a sequence's next index).
  var count = 0
  /// The key whose value comes next (mappings); nil while a key is expected.
  var key: String?
}

extension Array {
  /// Book-keeping after a value's event: a collection's start opens one (with `state`), its end
  /// closes it, and a finished value moves the enclosing collection to its next item or key.
  mutating func advance<State>(past event: YAMLEvent, opening state: State) where Element == OpenCollection<State> {
    if let isMapping = event.opensMapping {
      append(OpenCollection(isMapping: isMapping, state: state))
      return
    }
    if case .sequenceEnd = event { removeLast() }
    if case .mappingEnd = event { removeLast() }
    if !isEmpty {
      self[count - 1].count += 1
      self[count - 1].key = nil
    }
  }
}
