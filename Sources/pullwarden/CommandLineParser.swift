/// The command line, described once per command: parsing, the usage line, help and usage errors all
/// come from a `CommandSpec`.
///
/// This replaces swift-argument-parser, which imported FoundationEssentials and so linked it into
/// the binary the kubelet starts on every pull (and whose reflection-based set-up cost about as much
/// as answering a request). The syntax and messages are the ones ArgumentParser gave: `--name value`,
/// `--name=value`, `-c value`, repeatable options, `-h`/`--help`, and errors such as
/// `Missing expected argument '--records-dir <dir>'`.
struct OptionSpec {
  var name: String
  var short: Character?
  /// nil for a flag.
  var valueName: String?
  var help: String
  var required = false
  var repeatable = false
  var defaultValue: String?
  /// The fixed values it takes, for completion and the manual (`-o`: text, json, ...).
  var choices: [String] = []
  /// Whether the parser refuses a value outside `choices` (a usage error naming them).
  var onlyChoices = false
  /// What a value names, for shell completion.
  var completes = Completion.none
  /// Accepted but left out of help, completion and the manual (an older spelling).
  var hidden = false

  enum Completion {
    case none, file, directory
  }

  static func option(
    _ name: String, short: Character? = nil, value: String, help: String, required: Bool = false,
    repeatable: Bool = false, default defaultValue: String? = nil, choices: [String] = [], completes: Completion = .none,
    hidden: Bool = false
  ) -> OptionSpec {
    OptionSpec(
      name: name, short: short, valueName: value, help: help, required: required, repeatable: repeatable,
      defaultValue: defaultValue, choices: choices, completes: completes, hidden: hidden)
  }

  /// `-o/--output FORMAT`, the one output option: `formats` are the values this command writes, the
  /// first is the default; any other value is a usage error naming them.
  static func output(_ formats: [String], help: String? = nil) -> OptionSpec {
    // Not `joined(separator:)`: every command's options are built at start-up, and the standard
    // library's unspecialized `joined` cost verify and --version about 120k instructions (Step 10).
    var list = ""
    for format in formats { list += list.isEmpty ? format : ", " + format }
    return OptionSpec(
      name: "output", short: "o", valueName: "format", help: help ?? "Output format: " + list + ".",
      defaultValue: formats[0], choices: formats, onlyChoices: true)
  }

  static func flag(_ name: String, help: String) -> OptionSpec {
    OptionSpec(name: name, valueName: nil, help: help)
  }

  /// `--name <value>`, as usage lines and errors write it.
  var synopsis: String { valueName.map { "--\(name) <\($0)>" } ?? "--\(name)" }
}

struct CommandSpec {
  /// Words after `pullwarden`: `["records", "gc"]`.
  var path: [String]
  var abstract: String
  var discussion = ""
  var options: [OptionSpec] = []
  /// One optional positional argument.
  var argument: (valueName: String, help: String)?
  /// Whether the positional argument may be given more than once (`lint FILE...`).
  var repeatsArgument = false
  /// The fixed values the argument takes, for completion (`completion bash|zsh|fish`).
  var argumentChoices: [String] = []
  /// Left out of the overview (still documented in the manual).
  var hidden = false

  var visibleOptions: [OptionSpec] { options.filter { !$0.hidden } }

  var usage: String {
    var words = ["pullwarden"] + path
    if let argument { words.append("[<\(argument.valueName)>\(repeatsArgument ? " ..." : "")]") }
    for option in visibleOptions {
      let text = option.synopsis + (option.repeatable ? " ..." : "")
      words.append(option.required ? text : "[\(text)]")
    }
    return words.joined(separator: " ")
  }

  var help: String {
    var text = "OVERVIEW: \(abstract)\n"
    if !discussion.isEmpty { text += "\n" + discussion + "\n" }
    text += "\nUSAGE: \(usage)\n"
    if let argument {
      text += "\nARGUMENTS:\n" + Self.row("<\(argument.valueName)>", argument.help)
    }
    text += "\nOPTIONS:\n"
    for option in visibleOptions {
      var names = option.short.map { "-\($0), " } ?? ""
      names += option.synopsis
      var help = option.help
      if let defaultValue = option.defaultValue { help += " (default: \(defaultValue))" }
      text += Self.row(names, help)
    }
    text += Self.row("-h, --help", "Show help information.")
    return text
  }

  static func row(_ name: String, _ help: String) -> String {
    let padded = name.count < 24 ? name + String(repeating: " ", count: 24 - name.count) : name + "\n" + String(repeating: " ", count: 26)
    return "  " + padded + help + "\n"
  }

  enum Outcome {
    case parsed(ParsedOptions)
    case help
  }

  /// Reads `arguments` (the words after the command's path).
  ///
  /// `verify` runs this on every pod start, so it compares bytes and indexes into `options` instead of
  /// building `--name` strings and copying specs: 90k of verify's 1,060k instructions before (Step 10).
  func parse(_ arguments: [String]) throws(UsageError) -> Outcome {
    if arguments.contains(where: { $0 == "-h" || $0 == "--help" }) { return .help }
    var parsed = ParsedOptions()
    parsed.values.reserveCapacity(options.count)
    var index = 0
    while index < arguments.count {
      let word = arguments[index]
      index += 1
      guard word.hasPrefix("-"), word != "-" else {
        guard argument != nil, parsed.argument == nil || repeatsArgument else { throw UsageError("Unexpected argument '\(word)'") }
        if parsed.argument == nil { parsed.argument = word }
        parsed.arguments.append(word)
        continue
      }
      var name = word
      var inlineValue: String?
      if word.hasPrefix("--"), let equals = word.utf8.firstIndex(of: UInt8(ascii: "=")) {
        name = String(word[..<equals])
        inlineValue = String(word[word.utf8.index(after: equals)...])
      }
      let found: Int?
      if name.hasPrefix("--") {
        let long = name.utf8.dropFirst(2)
        found = options.firstIndex { $0.name.utf8.elementsEqual(long) }
      } else if name.utf8.count == 2, let letter = name.last {
        found = options.firstIndex { $0.short == letter }
      } else {
        found = nil
      }
      guard let found else { throw UsageError("Unknown option '\(name)'") }
      let option = options[found]
      guard option.valueName != nil else {
        if inlineValue != nil { throw UsageError("The flag '--\(option.name)' does not take a value") }
        parsed.flags.insert(option.name)
        continue
      }
      var value = inlineValue
      if value == nil, index < arguments.count, !arguments[index].hasPrefix("-") || arguments[index] == "-" {
        value = arguments[index]
        index += 1
      }
      guard let value else { throw UsageError("Missing value for '\(option.synopsis)'") }
      if option.onlyChoices && !option.choices.contains(value) {
        throw UsageError("The value '\(value)' is invalid for '\(option.synopsis)': expected \(option.choices.joined(separator: ", "))")
      }
      if option.repeatable {
        parsed.values[option.name, default: []].append(value)
      } else {
        parsed.values[option.name] = [value]
      }
    }
    for option in options where option.required && parsed.values[option.name] == nil {
      throw UsageError("Missing expected argument '\(option.synopsis)'")
    }
    for option in options {
      if let defaultValue = option.defaultValue, parsed.values[option.name] == nil {
        parsed.values[option.name] = [defaultValue]
      }
    }
    return .parsed(parsed)
  }
}

/// What a command line said, by long option name.
struct ParsedOptions {
  var values: [String: [String]] = [:]
  var flags: Set<String> = []
  var argument: String?
  /// Every positional argument, in order (more than one only where the spec repeats it).
  var arguments: [String] = []

  func value(_ name: String) -> String? { values[name]?.last }
  func all(_ name: String) -> [String] { values[name] ?? [] }
  func flag(_ name: String) -> Bool { flags.contains(name) }
}

/// A command line that cannot be run: the message ArgumentParser would have given.
struct UsageError: Error {
  var message: String
  init(_ message: String) { self.message = message }
}
