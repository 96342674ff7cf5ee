/// The exit statuses every command shares (README, Exit status; the manual's EXIT STATUS).
enum ExitStatus {
  static let table: [(code: Int32, meaning: String, commands: String)] = [
    (0, "success: answered, may use, shown, clean", "all"),
    (1, "a negative answer: the image must be pulled (re-verified), has no record, or would get no credentials; config check --strict found warnings only; lint found something; provide: the request is invalid (kept for the kubelet)", "verify, records inspect, explain, config check, audit --fail-on-breakage, lint, provide"),
    (2, "an invalid config or input file (a config, a verify request, explain's --request, a lint manifest)", "provide, verify, explain, records, config check, audit, lint"),
    (3, "a credential source, server or external input failed", "provide"),
    (4, "records could not be written or read (missing, unreadable or untrusted records directory)", "provide, verify, records, audit"),
    (5, "stdout could not be written", "provide, verify, audit, lint"),
    (64, "command-line usage error: an unknown option or value, a missing or invalid argument (verify still answers must pull on stdout)", "all"),
  ]
}

/// `pullwarden manual`: the pullwarden(1) man page in roff, generated from the command tree as
/// swift-argument-parser's generate-manual does. Left out of the overview; `scripts/build-docs`
/// ships its output next to the release binary.
enum ManualCommand {
  static let spec = CommandSpec(
    path: ["manual"],
    abstract: "Print the pullwarden(1) manual page (roff): man -l <(pullwarden manual).",
    discussion: "Exit status: 0 printed, 64 usage.",
    hidden: true
  )

  static func run(_ options: ParsedOptions) -> Int32 {
    StandardStreams.writeOut(page())
    return 0
  }

  static func page() -> String {
    let date = PullwardenVersion.buildDate == "unknown" ? "" : String(PullwardenVersion.buildDate.prefix(10))
    var lines = [
      #".TH PULLWARDEN 1 "\#(date)" "pullwarden \#(PullwardenVersion.current)" "User Commands""#,
      ".SH NAME", #"pullwarden \- "# + escaped(Commands.root.abstract),
      ".SH SYNOPSIS",
    ]
    lines += Array(Commands.commands.map { [synopsis($0.0)] }.joined(separator: [".br"]))
    lines += [".SH DESCRIPTION"] + paragraphs(String(Commands.root.discussion.splitText("SUBCOMMANDS:")[0])).dropFirst()
    lines += [".SH COMMANDS"]
    for (spec, _) in Commands.commands {
      lines += [".SS " + quotedArgument((["pullwarden"] + spec.path).joined(separator: " ")), escaped(spec.abstract)]
      lines += [".PP", synopsis(spec)]
      if !spec.discussion.isEmpty { lines += paragraphs(spec.discussion) }
      if let argument = spec.argument {
        lines += [".TP", #"\fI"# + escaped(argument.valueName) + #"\fR"#, escaped(argument.help)]
      }
      for option in spec.visibleOptions {
        var names = option.short.map { #"\fB\-"# + String($0) + #"\fR, "# } ?? ""
        names += #"\fB\-\-"# + escaped(option.name) + #"\fR"#
        if let value = option.valueName { names += #" \fI"# + escaped(value) + #"\fR"# }
        var help = option.help
        if let defaultValue = option.defaultValue { help += " (default: \(defaultValue))" }
        if option.repeatable { help += " Repeatable." }
        lines += [".TP", names, escaped(help)]
      }
      lines += [".TP", #"\fB\-h\fR, \fB\-\-help\fR"#, "Show help information."]
    }
    lines += [".SH EXIT STATUS", "The same status means the same situation in every command:"]
    for row in ExitStatus.table {
      lines += [".TP", #"\fB\#(row.code)\fR"#, escaped(row.meaning) + " (" + escaped(row.commands) + ")."]
    }
    lines += [
      ".SH FILES",
      ".TP", #"\fI/etc/pullwarden/config.yaml\fR"#,
      "The config file, given with \\fB\\-\\-config\\fR (the kubelet's CredentialProviderConfig names it in the provider's args).",
      ".TP", #"\fI/var/lib/pullwarden\fR"#,
      "A usual \\fBrecordsDir\\fR: pull records (pulled/, pulling/) and their credential expiry files.",
      ".TP", #"\fI/var/lib/kubelet/image_manager\fR"#,
      "The kubelet's own pull records, which \\fBverify\\fR and \\fBrecords\\fR read (with \\fB\\-\\-image\\-ref\\fR or imageRef).",
      ".TP", #"\fI/usr/share/bash\-completion/completions/pullwarden\fR, \fI/usr/share/zsh/vendor\-completions/_pullwarden\fR, \fI/usr/share/fish/vendor_completions.d/pullwarden.fish\fR"#,
      "Shell completions, as \\fBpullwarden completion\\fR prints them.",
      ".SH SEE ALSO",
      #"\fBkubelet\fR(8), \fBcrictl\fR(1); KEP\-2535 (ensure secret pulled images) and the kubelet image credential provider documentation. The project's README.md and docs/records\-and\-verifier.md."#,
      "",
    ]
    return lines.joined(separator: "\n")
  }

  /// `pullwarden records gc [--records-dir dir] ...` in roff, bold words and italic values.
  static func synopsis(_ spec: CommandSpec) -> String {
    var words = [#"\fBpullwarden "# + escaped(spec.path.joined(separator: " ")) + #"\fR"#]
    if let argument = spec.argument {
      words.append(#"[\fI"# + escaped(argument.valueName) + #"\fR"# + (spec.repeatsArgument ? " ...]" : "]"))
    }
    for option in spec.visibleOptions {
      var text = #"\fB\-\-"# + escaped(option.name) + #"\fR"#
      if let value = option.valueName { text += #" \fI"# + escaped(value) + #"\fR"# }
      if option.repeatable { text += " ..." }
      words.append(option.required ? text : "[" + text + "]")
    }
    return words.joined(separator: " ")
  }

  /// Help text as roff: a blank line starts a paragraph, every other line break is kept.
  static func paragraphs(_ text: String) -> [String] {
    var lines: [String] = []
    for paragraph in text.splitText("\n\n", omittingEmptySubsequences: true) {
      lines.append(".PP")
      let body = paragraph.split(separator: "\n", omittingEmptySubsequences: true)
      for (index, line) in body.enumerated() {
        if index > 0 { lines.append(".br") }
        lines.append(escaped(line.drop { $0 == " " }))
      }
    }
    return lines
  }

  /// Text safe on a roff text line: backslashes and hyphens escaped, and a leading `.` or `'` (a
  /// request) neutralised.
  static func escaped<S: StringProtocol>(_ text: S) -> String {
    var out = ""
    for character in text {
      switch character {
      case "\\": out += #"\e"#
      case "-": out += #"\-"#
      default:
        if character.isASCII {
          out.append(character)
        } else {
          // groff reads Latin-1 by default: other characters by their code point.
          for scalar in character.unicodeScalars {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            out += #"\[u"# + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
          }
        }
      }
    }
    if out.hasPrefix(".") || out.hasPrefix("'") { out = #"\&"# + out }
    return out
  }

  static func quotedArgument(_ text: String) -> String { "\"" + escaped(text) + "\"" }
}
