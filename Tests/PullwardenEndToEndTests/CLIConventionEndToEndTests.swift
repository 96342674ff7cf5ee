import FixtureKit
import Foundation
import Testing

/// One command-line convention for every command: exit statuses (README, Exit status), `-o/--output`,
/// `--config` for the records directory, and the completions and manual generated from the commands.
@Suite struct CLIConventionEndToEndTests {
  let scratch: Scratch
  /// Pullwarden's records (one record for registry.example.com/team/app, with its expiry file).
  let records: String
  let config: String
  let brokenConfig: String

  static let recordedImage = "registry.example.com/team/app:v3"
  static let recordedSecret =
    #"{"namespace":"team-a","name":"team-a-pull","uid":"uid-a","credentialHash":"ca646912c06326f594e6196c7297a2db4f7f447ca7f0d37e9664e361d6e68c1d"}"#

  init() throws {
    scratch = try Scratch()
    records = scratch.path + "/records"
    try FileManager.default.copyItem(
      atPath: Pullwarden.fixtures.appendingPathComponent("records/inspect-pullwarden-record/records").path, toPath: records)
    // A test login (robot:test-password), so explain has a credential to find.
    try scratch.write("docker.json", #"{"auths":{"registry.example.com":{"auth":"cm9ib3Q6dGVzdC1wYXNzd29yZA=="}}}"#)
    config = try scratch.write(
      "config.yaml",
      "recordsDir: \(records)\nsources: [{name: node, type: dockerConfig, matchImages: [registry.example.com], path: \(scratch.path)/docker.json}]\n")
    brokenConfig = try scratch.write("broken.yaml", "sources: [{name: x, type: nope}]\n")
  }

  // MARK: Exit statuses

  /// Every command, each status it can give, in one table: the README's Exit status table, row by row.
  @Test func exitStatusesFollowTheOneConvention() throws {
    let may = #"{"image":"\#(Self.recordedImage)","podSecrets":[\#(Self.recordedSecret)]}"#
    let must = #"{"image":"\#(Self.recordedImage)"}"#
    let cases: [(arguments: [String], stdin: String, status: Int32)] = [
      (["version"], "", 0),
      (["--version"], "", 0),
      (["verify", "--version"], "", 0),
      (["version", "-o", "xml"], "", 64),
      (["--bogus"], "", 64),
      (["nonsense"], "", 64),
      (["provide"], "", 64),
      (["provide", "--config", config], "{}", 1),
      (["provide", "--config", brokenConfig], "{}", 2),
      (["verify", "--records-dir", records], may, 0),
      (["verify", "--config", config], may, 0),
      (["verify", "--records-dir", records], must, 1),
      (["verify", "--records-dir", records], "{not json", 2),
      (["verify", "--config", brokenConfig], may, 2),
      (["verify", "--records-dir", scratch.path + "/nowhere"], may, 4),
      (["verify", "--records-dir", records, "--bogus"], may, 64),
      (["verify"], may, 64),
      (["verify", "--records-dir", records, "--policy", "Sometimes"], may, 64),
      (["explain", "registry.example.com/app", "--config", config], "", 0),
      (["explain", "ghcr.io/app", "--config", config], "", 1),
      (["explain", "registry.example.com/app", "--config", brokenConfig], "", 2),
      (["explain", "--config", config, "--request", "-"], "{not json", 2),
      (["explain", "--config", config], "", 64),
      (["records", "list", "--records-dir", records], "", 0),
      (["records", "list", "--config", config], "", 0),
      (["records", "list", "--config", brokenConfig], "", 2),
      (["records", "list", "--records-dir", scratch.path + "/nowhere"], "", 4),
      (["records", "list"], "", 64),
      (["records", "list", "--records-dir", records, "--config", config], "", 64),
      (["records", "inspect", Self.recordedImage, "--records-dir", records], "", 0),
      (["records", "inspect", "registry.example.com/other", "--records-dir", records], "", 1),
      (["records", "inspect", "registry.example.com/other", "--records-dir", scratch.path + "/nowhere"], "", 4),
      (["records", "inspect", "Not An Image", "--records-dir", records], "", 64),
      (["records", "inspect", "--records-dir", records], "", 64),
      (["records", "gc", "--records-dir", records, "--expired", "--dry-run"], "", 0),
      (["records", "gc", "--records-dir", scratch.path + "/nowhere", "--expired"], "", 4),
      (["records", "gc", "--records-dir", records], "", 64),
      (["records", "gc", "--records-dir", records, "--older-than", "30 days"], "", 64),
      (["config", "check", "--config", config], "", 0),
      (["config", "check", "--config", brokenConfig], "", 2),
      (["config", "check"], "", 64),
      (["completion", "bash"], "", 0),
      (["completion", "tcsh"], "", 64),
      (["completion"], "", 64),
      (["manual"], "", 0),
    ]
    for (arguments, stdin, status) in cases {
      let result = try Pullwarden.run(arguments, stdin: stdin)
      #expect(result.status == status, "\(arguments): exit \(result.status), stderr \(result.stderr)")
      if status >= 2 {
        #expect(!result.stderr.isEmpty, "\(arguments): a failure says why on stderr")
      }
    }
  }

  /// Each command's help states the statuses it uses, and they are the convention's.
  @Test(arguments: [
    (["provide"], ["0 answered", "1 bad request", "2 bad config", "3 a credential source failed", "4 the pull intent", "5 the response", "64 usage"]),
    (["verify"], ["0 the pod may use", "1 it must pull", "2 (invalid request or config)", "4 (records", "5 (stdout failed)", "64 (usage)"]),
    (["explain"], ["0 the image would get credentials", "1 it would not", "2 the config or the --request file is invalid", "64 usage"]),
    (["records", "inspect"], ["0 the record is shown", "1 there is no record", "4 it is unreadable", "64 usage"]),
    (["records", "gc"], ["0 done", "4 the records", "64 usage"]),
    (["config", "check"], ["0 clean", "1 warnings with --strict", "2 errors", "64 usage"]),
  ])
  func helpStatesTheStatuses(command: [String], fragments: [String]) throws {
    let help = try Pullwarden.run(command + ["--help"]).stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
      .joined(separator: " ")
    for fragment in fragments {
      #expect(help.contains(fragment), "\(command): \(fragment)")
    }
  }

  // MARK: -o/--output

  /// The same `-o` values wherever they apply; any other value is a usage error naming them.
  @Test(arguments: [
    (["version"], ["text", "json", "yaml"]),
    (["records", "list", "--records-dir", "RECORDS"], ["text", "json", "yaml"]),
    (["records", "inspect", recordedImage, "--records-dir", "RECORDS"], ["text", "json", "yaml"]),
    (["records", "gc", "--records-dir", "RECORDS", "--expired", "--dry-run"], ["text", "json"]),
    (["explain", "registry.example.com/app", "--config", "CONFIG"], ["text", "json", "yaml"]),
    (["verify", "--records-dir", "RECORDS"], ["json", "text"]),
  ])
  func outputFormats(command: [String], formats: [String]) throws {
    let arguments = command.map { $0 == "RECORDS" ? records : $0 == "CONFIG" ? config : $0 }
    let stdin = #"{"image":"\#(Self.recordedImage)"}"#
    let plain = try Pullwarden.run(arguments, stdin: stdin)
    for format in formats {
      for spelling in [["-o", format], ["--output", format], ["--output=" + format]] {
        let result = try Pullwarden.run(arguments + spelling, stdin: stdin)
        #expect(result.status == plain.status, "\(arguments) \(spelling): \(result.stderr)")
        switch format {
        case "json":
          #expect(result.stdout.hasSuffix("\n") && !result.stdout.dropLast().contains("\n"), "one line of JSON")
          #expect(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) is [String: Any] || result.stdout.hasPrefix("["))
        case "yaml":
          #expect(!result.stdout.hasPrefix("{") && result.stdout.contains(": "), "\(result.stdout)")
        default:
          #expect((try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) == nil, "text is not JSON")
        }
      }
      // The first format is the default.
      if format == formats[0] { #expect(try Pullwarden.run(arguments + ["-o", format], stdin: stdin).stdout == plain.stdout) }
    }
    for unknown in ["xml", "yaml", "table"] where !formats.contains(unknown) {
      let result = try Pullwarden.run(arguments + ["-o", unknown], stdin: stdin)
      #expect(result.status == 64, "\(arguments) -o \(unknown)")
      #expect(result.stderr.contains("expected " + formats.joined(separator: ", ")), "\(result.stderr)")
    }
    #expect(try Pullwarden.run(arguments + ["--help"]).stdout.contains("-o, --output <format>   Output format: \(formats.joined(separator: ", "))."))
  }

  // MARK: --config

  @Test func verifyAndRecordsFindTheRecordsThroughTheConfig() throws {
    let request = #"{"image":"\#(Self.recordedImage)","podSecrets":[\#(Self.recordedSecret)]}"#
    let byDirectory = try Pullwarden.run(["verify", "--records-dir", records], stdin: request)
    let byConfig = try Pullwarden.run(["verify", "-c", config], stdin: request)
    #expect(byConfig.status == 0 && byConfig.stdout == byDirectory.stdout, "\(byConfig.stderr)")
    for command in [["records", "list", "-o", "json"], ["records", "inspect", Self.recordedImage, "-o", "json"]] {
      let direct = try Pullwarden.run(command + ["--records-dir", records])
      let configured = try Pullwarden.run(command + ["--config", config])
      #expect(configured.status == 0 && configured.stdout == direct.stdout, "\(command): \(configured.stderr)")
    }
  }

  // MARK: Completions

  /// The bash script loads, registers itself, and completes commands, groups, options and values.
  @Test func bashCompletionCompletes() throws {
    let script = try Pullwarden.run(["completion", "bash"]).stdout
    let file = try scratch.write("pullwarden.bash", script)
    let probe = """
      source \(file)
      complete -p pullwarden
      complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _pullwarden; echo "${COMPREPLY[*]}"; }
      complete_words pullwarden rec
      complete_words pullwarden records ''
      complete_words pullwarden records list -o ''
      complete_words pullwarden verify --pol
      complete_words pullwarden verify --policy Al
      complete_words pullwarden explain registry.example.com/app --l
      complete_words pullwarden completion ''
      complete_words pullwarden man  # hidden, as in the overview
      """
    let result = try run("/bin/bash", ["-c", probe])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stdout.split(separator: "\n", omittingEmptySubsequences: false) == [
        "complete -F _pullwarden pullwarden", "records", "list inspect gc --help -h", "text json yaml", "--policy", "AlwaysVerify",
        "--live", "bash zsh fish --help -h", "", "",
      ], "\(result.stdout)")
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh"), "zsh is not installed"))
  func zshCompletionParses() throws {
    let file = try scratch.write("_pullwarden", try Pullwarden.run(["completion", "zsh"]).stdout)
    let result = try run("/usr/bin/zsh", ["-n", file])
    #expect(result.status == 0, "\(result.stderr)")
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/fish"), "fish is not installed"))
  func fishCompletionParses() throws {
    let file = try scratch.write("pullwarden.fish", try Pullwarden.run(["completion", "fish"]).stdout)
    let result = try run("/usr/bin/fish", ["--no-execute", file])
    #expect(result.status == 0, "\(result.stderr)")
  }

  /// Whatever the shell, the script names every command and option the parser accepts, and no
  /// hidden one (the older `--format` spelling).
  @Test(arguments: ["bash", "zsh", "fish"])
  func completionNamesEveryCommandAndOption(shell: String) throws {
    let script = try Pullwarden.run(["completion", shell]).stdout
    #expect(shell == "zsh" ? script.hasPrefix("#compdef pullwarden\n") : script.hasPrefix("# \(shell) completion for pullwarden"))
    for word in ["provide", "verify", "explain", "records", "list", "inspect", "gc", "config", "check", "version", "completion",
      "records-dir", "image-ref", "older-than", "dry-run", "update-records", "kubelet-version", "service-account", "NeverVerifyPreloadedImages"]
    {
      #expect(script.contains(word), "\(shell): \(word)")
    }
    #expect(!script.contains("--format") && !script.contains("-l format"), "\(shell): the hidden --format is offered")
  }

  // MARK: Manual

  @Test func manualIsAManPageOfEveryCommand() throws {
    let page = try Pullwarden.run(["manual"]).stdout
    #expect(page.hasPrefix(".TH PULLWARDEN 1 "))
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "FILES", "SEE ALSO"] {
      #expect(page.contains("\n.SH \(section)\n"), "\(section)")
    }
    for command in ["provide", "verify", "explain", "records list", "records inspect", "records gc", "config check", "version", "completion"] {
      #expect(page.contains("\n.SS \"pullwarden \(command)\"\n"), "\(command)")
    }
    for status in [0, 1, 2, 3, 4, 5, 64] { #expect(page.contains("\n.TP\n\\fB\(status)\\fR\n"), "exit \(status)") }
    #expect(page.contains(#"\fB\-o\fR, \fB\-\-output\fR \fIformat\fR"#))
    // Every line is either a request or text that cannot be read as one.
    for line in page.split(separator: "\n") where line.hasPrefix(".") || line.hasPrefix("'") {
      #expect(["TH", "SH", "SS", "PP", "TP", "br"].contains(line.dropFirst().prefix { $0 != " " }), "\(line)")
    }
    let overview = try Pullwarden.run(["--help"]).stdout
    #expect(!overview.contains("manual"), "manual stays out of the overview")
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/groff"), "groff is not installed"))
  func manualRendersWithoutWarnings() throws {
    let file = try scratch.write("pullwarden.1", try Pullwarden.run(["manual"]).stdout)
    let rendered = try run("/usr/bin/groff", ["-man", "-Tutf8", "-ww", file])
    #expect(rendered.status == 0 && rendered.stderr.isEmpty, "\(rendered.stderr)")
    #expect(rendered.stdout.contains("PULLWARDEN(1)"))
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/mandoc"), "mandoc is not installed"))
  func manualPassesMandocLint() throws {
    let file = try scratch.write("pullwarden.1", try Pullwarden.run(["manual"]).stdout)
    let lint = try run("/usr/bin/mandoc", ["-Tlint", "-Wwarning", file])
    // A debug build has no build date; the release build stamps one.
    let problems = lint.stdout.split(separator: "\n").filter { !$0.contains("missing date") }
    #expect(problems.isEmpty, "\(problems)")
  }

  /// `scripts/build-docs BINARY OUTDIR`, the packaging's interface: the four files, nothing on stdout.
  @Test func buildDocsWritesTheManualAndCompletions() throws {
    let script = Pullwarden.fixtures.deletingLastPathComponent().appendingPathComponent("scripts/build-docs").path
    let out = scratch.path + "/docs"
    let result = try run(script, [Pullwarden.binary.path, out])
    #expect(result.status == 0 && result.stdout.isEmpty, "\(result.stderr)")
    let expected = [
      "pullwarden.1": ["manual"], "completions/pullwarden.bash": ["completion", "bash"], "completions/_pullwarden": ["completion", "zsh"],
      "completions/pullwarden.fish": ["completion", "fish"],
    ]
    for (name, arguments) in expected {
      let written = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
      #expect(written == (try Pullwarden.run(arguments).stdout), "\(name)")
    }
    #expect(try FileManager.default.subpathsOfDirectory(atPath: out).sorted() == ["completions"] + expected.keys.sorted())
    #expect(try run(script, [Pullwarden.binary.path]).status == 64)
  }

  /// Runs a tool other than pullwarden.
  private func run(_ executable: String, _ arguments: [String]) throws -> Pullwarden.Result {
    let outcome = try ProcessRunner.run(
      URL(fileURLWithPath: executable), arguments: arguments, stdin: Data(), environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"],
      directory: nil, timeout: 60)
    return Pullwarden.Result(outcome)
  }
}
