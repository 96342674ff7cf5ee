import CYAML

/// A position in a YAML text, 1-based (libyaml counts from 0; editors and error messages from 1).
struct YAMLMark: Equatable, Sendable {
  var line: Int
  var column: Int

  var text: String { "\(line):\(column)" }
}

/// One parse event, copied out of libyaml's `yaml_event_t` (which is freed at once).
enum YAMLEvent {
  case documentStart
  case documentEnd
  case streamEnd
  /// `plain`: unquoted and not a block scalar; `tag` is resolved (`!!str` is `tag:yaml.org,2002:str`).
  case scalar(text: String, plain: Bool, tag: String?, anchor: String?, mark: YAMLMark)
  case alias(anchor: String, mark: YAMLMark)
  case sequenceStart(anchor: String?, mark: YAMLMark)
  case sequenceEnd
  case mappingStart(anchor: String?, mark: YAMLMark)
  case mappingEnd
}

/// libyaml's own description of a syntax error: its problem text, the construct it was reading, and
/// where. libyaml's messages are fixed strings and never contain the input.
struct LibYAMLError: Error {
  var message: String
  var mark: YAMLMark?
}

/// The owner of one libyaml parser and the copy of the input it reads: `yaml_parser_delete` and both
/// buffers are freed in `deinit`. Events are pulled one at a time, so a document costs memory for its
/// values only, never for a node tree.
struct LibYAMLParser: ~Copyable {
  private let parser: UnsafeMutablePointer<yaml_parser_t>
  private let input: UnsafeMutableBufferPointer<UInt8>
  private let initialized: Bool

  /// - Parameter firstLine: the line `bytes` start on, when they are one piece of a larger file
  ///   (lint parses each `---` document of a stream on its own), so marks count the file's lines.
  init(_ bytes: [UInt8], firstLine: Int = 1) {
    parser = .allocate(capacity: 1)
    input = .allocate(capacity: max(bytes.count, 1))
    _ = input.initialize(from: bytes)
    initialized = yaml_parser_initialize(parser) == 1
    if initialized {
      yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
      yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
      parser.pointee.mark.line = max(firstLine - 1, 0)
    }
  }

  deinit {
    if initialized { yaml_parser_delete(parser) }
    parser.deallocate()
    input.deallocate()
  }

  /// The next event after the stream start; `.streamEnd` once the input is exhausted.
  mutating func next() throws(LibYAMLError) -> YAMLEvent {
    guard initialized else { throw LibYAMLError(message: "out of memory", mark: nil) }
    var event = yaml_event_t()
    while true {
      guard yaml_parser_parse(parser, &event) == 1 else { throw error() }
      defer { yaml_event_delete(&event) }
      let mark = YAMLMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
      switch event.type {
      case YAML_STREAM_START_EVENT:
        continue
      case YAML_STREAM_END_EVENT, YAML_NO_EVENT:
        return .streamEnd
      case YAML_DOCUMENT_START_EVENT:
        return .documentStart
      case YAML_DOCUMENT_END_EVENT:
        return .documentEnd
      case YAML_SCALAR_EVENT:
        var length = 0
        let value = CYAML_scalarValue(&event, &length)
        let text = value.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
        return .scalar(
          text: text, plain: CYAML_scalarIsPlain(&event) != 0, tag: Self.string(CYAML_tag(&event)),
          anchor: Self.string(CYAML_anchor(&event)), mark: mark)
      case YAML_ALIAS_EVENT:
        return .alias(anchor: Self.string(CYAML_anchor(&event)) ?? "", mark: mark)
      case YAML_SEQUENCE_START_EVENT:
        return .sequenceStart(anchor: Self.string(CYAML_anchor(&event)), mark: mark)
      case YAML_SEQUENCE_END_EVENT:
        return .sequenceEnd
      case YAML_MAPPING_START_EVENT:
        return .mappingStart(anchor: Self.string(CYAML_anchor(&event)), mark: mark)
      case YAML_MAPPING_END_EVENT:
        return .mappingEnd
      default:
        throw LibYAMLError(message: "unexpected parser event", mark: mark)
      }
    }
  }

  private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
    pointer.map { String(cString: $0) }
  }

  /// libyaml's problem (and the construct it was in), as Yams worded it: `<problem> (<context>)`.
  private func error() -> LibYAMLError {
    let state = parser.pointee
    if state.error == YAML_MEMORY_ERROR { return LibYAMLError(message: "out of memory", mark: nil) }
    var message = state.problem.map { String(cString: $0) } ?? "unreadable document"
    if let context = state.context { message += " (\(String(cString: context)))" }
    switch state.error {
    case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
      let mark = YAMLMark(line: Int(state.problem_mark.line) + 1, column: Int(state.problem_mark.column) + 1)
      return LibYAMLError(message: message, mark: mark)
    default:
      // Reader errors (bad encoding, control characters) carry a byte offset, not a line.
      return LibYAMLError(message: message, mark: nil)
    }
  }
}
