import ArgumentParser
import PullwardenCore

/// `pullwarden records list | inspect | gc`.
struct RecordsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "records",
    abstract: "List, inspect and garbage-collect pull records.",
    subcommands: [List.self, Inspect.self, GC.self]
  )

  /// Where the records are: --records-dir, or the recordsDir of a config file.
  struct Location: ParsableArguments {
    @Option(name: .customLong("records-dir"), help: ArgumentHelp("Records directory (Pullwarden's or the kubelet's image_manager).", valueName: "dir"))
    var recordsDir: String?

    @Option(name: [.short, .long], help: ArgumentHelp("Take the records directory from this Pullwarden config.", valueName: "file"))
    var config: String?

    func store() throws(PullwardenError) -> RecordStore {
      switch (recordsDir, config) {
      case (let directory?, nil):
        return RecordStore(directory: directory)
      case (nil, let config?):
        return RecordStore(directory: try PullwardenConfig.load(path: config).recordsDirectory)
      case (_?, _?):
        throw PullwardenError(.config, "give --records-dir or --config, not both", at: "command line")
      case (nil, nil):
        throw PullwardenError(.config, "missing --records-dir or --config", at: "command line")
      }
    }
  }

  /// Runs `body`, turning a PullwardenError into one stderr line and its exit status.
  static func reporting(_ body: () throws(PullwardenError) -> Void) throws {
    do {
      try body()
    } catch {
      StandardStreams.reportError(error)
      throw ExitCode(ProvideRun.exitCode(for: error.kind))
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List every pull record: image, times, credentials and expiry.",
      discussion: "Untrusted files (unreadable, or naming another imageRef) are listed too; they never allow reuse."
    )

    @OptionGroup var location: Location

    @Option(help: ArgumentHelp("table or json.", valueName: "format"))
    var format: String = "table"

    func run() throws {
      try RecordsCommand.reporting { () throws(PullwardenError) in
        let store = try location.store()
        let json = try RecordsCommand.isJSON(format, other: "table")
        try store.checkLayout()
        let listed = try store.listPulled()
        let now = Timestamp.now()
        if json {
          StandardStreams.writeOut(JSON.encode(RecordsReport.json(listed, directory: store.directory, now: now)) + [UInt8(ascii: "\n")])
        } else {
          StandardStreams.writeOut(RecordsReport.table(listed, now: now))
        }
      }
    }
  }

  struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the record of one image with every credential and its expiry.",
      discussion: """
        IMAGE is normalized as the provider records it (nginx → docker.io/library/nginx). For the kubelet's \
        records, which are keyed by image ID, give --image-ref instead. Exit status 1 when there is no record.
        """
    )

    @Argument(help: ArgumentHelp("The image (Pullwarden's records).", valueName: "image"))
    var image: String?

    @Option(name: .customLong("image-ref"), help: ArgumentHelp("The record key itself, e.g. a CRI image ID.", valueName: "ref"))
    var imageRef: String?

    @OptionGroup var location: Location

    @Option(help: ArgumentHelp("text or json.", valueName: "format"))
    var format: String = "text"

    func run() throws {
      var found = true
      try RecordsCommand.reporting { () throws(PullwardenError) in
        let store = try location.store()
        let json = try RecordsCommand.isJSON(format, other: "text")
        let key: String
        switch (image, imageRef) {
        case (let image?, nil):
          do {
            key = try ImageReference(parsing: image).name
          } catch {
            throw PullwardenError(.request, "invalid image \"\(image)\": \(error)", at: "command line")
          }
        case (nil, let ref?):
          key = ref
        default:
          throw PullwardenError(.config, "give an image or --image-ref, exactly one", at: "command line")
        }
        try store.checkLayout()
        let file = store.pulledDirectory + "/" + RecordStore.fileName(forKey: key)
        let now = Timestamp.now()
        let content = store.pulledRecord(imageRef: key, diagnostics: .standardError)
        if json {
          StandardStreams.writeOut(JSON.encode(RecordsReport.json(file: RecordStore.fileName(forKey: key), content, directory: store.directory, now: now)) + [UInt8(ascii: "\n")])
        }
        switch content {
        case .found(let record, let expiry):
          if !json { StandardStreams.writeOut(RecordsReport.describe(record, expiry, file: file, now: now)) }
        case .absent:
          found = false
          StandardStreams.writeError("pullwarden: no pull record for \(key) (\(file))\n")
        case .unreadable(let problem):
          throw PullwardenError(.records, "the pull record is unreadable and never trusted: \(problem)", at: file)
        case .mismatched(let other):
          throw PullwardenError(.records, "the file names imageRef \"\(other)\", not \"\(key)\"; it is never trusted", at: file)
        }
      }
      if !found { throw ExitCode(1) }
    }
  }

  struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "gc",
      abstract: "Retire records unused for a while, or whose every credential has expired.",
      discussion: """
        gc only ever moves an answer towards "must pull", never towards "may use". A collected record is \
        retired, not deleted: its credentials are cleared (an empty credentialMapping, the kubelet's \
        "pulled, credentials unknown") and its expiry file removed, so every pod must re-verify the image; \
        a deleted record would make the image look preloaded.

        --older-than DURATION  retires records not updated or handed out for that long.
        --expired              retires records whose every credential has expired (a kubelet's records, \
                               which have no expiry files, never expire).
        Always: removes expiry and lock files whose record is gone, and Pullwarden's temporary files \
        (.<name>.<pid>.<n>.tmp) older than an hour in pulled/, pulling/ and every pullwarden-* directory \
        (the Secret-files index too) and their .pullwarden-tmp/ folders; a temporary file a writer may \
        still rename is never that old.
        Never: deletes a record, touches a pull intent (pulling/), or changes an unreadable record or one \
        naming another imageRef (each of those forces re-verification already).
        --dry-run says what would change and changes nothing.
        """
    )

    @OptionGroup var location: Location

    @Option(name: .customLong("older-than"), help: ArgumentHelp("Retire records not updated or handed out for this long (Go duration, e.g. 720h).", valueName: "duration"))
    var olderThan: String?

    @Flag(help: "Retire records whose every credential has expired.")
    var expired = false

    @Flag(name: .customLong("dry-run"), help: "Say what would change, change nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("text or json.", valueName: "format"))
    var format: String = "text"

    func run() throws {
      try RecordsCommand.reporting { () throws(PullwardenError) in
        let store = try location.store()
        let json = try RecordsCommand.isJSON(format, other: "text")
        var age: GoDuration?
        if let olderThan {
          do {
            age = try GoDuration(parsing: olderThan)
          } catch {
            throw PullwardenError(.config, "\(error) (days are written in hours: 720h)", at: "--older-than")
          }
          if age! < .zero { throw PullwardenError(.config, "must not be negative", at: "--older-than") }
        }
        if age == nil && !expired {
          throw PullwardenError(.config, "nothing to collect: give --older-than DURATION, --expired, or both", at: "command line")
        }
        try store.checkLayout()
        let collector = RecordsCollector(olderThan: age, expired: expired, dryRun: dryRun)
        let actions = try collector.run(store, now: .now())
        if json {
          StandardStreams.writeOut(JSON.encode(collector.json(actions)) + [UInt8(ascii: "\n")])
        } else {
          StandardStreams.writeOut(collector.text(actions))
        }
      }
    }
  }

  static func isJSON(_ format: String, other: String) throws(PullwardenError) -> Bool {
    guard format == "json" || format == other else {
      throw PullwardenError(.config, "unknown format \"\(format)\" (expected \(other) or json)", at: "--format")
    }
    return format == "json"
  }
}
