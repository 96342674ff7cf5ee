import PullwardenCore

/// `pullwarden records list | inspect | gc`.
enum RecordsCommands {
  static let locationOptions: [OptionSpec] = [
    .option("records-dir", value: "dir", help: "Records directory (Pullwarden's or the kubelet's image_manager).", completes: .directory),
    .option("config", short: "c", value: "file", help: "Take the records directory from this Pullwarden config.", completes: .file),
  ]

  /// `-o` with the values a command writes, and `--format`, its older spelling (`table` is `text`).
  static func outputOptions(_ formats: [String]) -> [OptionSpec] {
    [.output(formats), .option("format", value: "format", help: "Older spelling of --output.", hidden: true)]
  }

  /// Where the records are: --records-dir, or the recordsDir of a config file.
  static func recordStore(_ options: ParsedOptions) throws(PullwardenError) -> RecordStore {
    switch (options.value("records-dir"), options.value("config")) {
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

  /// The output format: `--format` when given (older scripts), else `-o` (checked by the parser).
  static func format(_ options: ParsedOptions, _ spec: CommandSpec) throws(PullwardenError) -> String {
    guard let older = options.value("format") else { return options.value("output")! }
    let formats = spec.options.first { $0.name == "output" }!.choices
    let format = older == "table" ? "text" : older
    guard formats.contains(format) else {
      throw PullwardenError(.config, "unknown format \"\(older)\" (expected \(formats.joined(separator: ", ")))", at: "--format")
    }
    return format
  }

  // MARK: list

  static let list = CommandSpec(
    path: ["records", "list"],
    abstract: "List every pull record: image, times, credentials and expiry.",
    discussion: "Untrusted files (unreadable, or naming another imageRef) are listed too; they never allow reuse.",
    options: locationOptions + outputOptions(["text", "json", "yaml"])
  )

  static func runList(_ options: ParsedOptions) -> Int32 {
    Commands.reporting { () throws(PullwardenError) in
      let store = try recordStore(options)
      let format = try format(options, list)
      try store.checkLayout()
      let listed = try store.listPulled()
      let now = Timestamp.now()
      if format != "text" {
        Commands.writeStructured(RecordsReport.json(listed, directory: store.directory, now: now), format)
      } else {
        StandardStreams.writeOut(RecordsReport.table(listed, now: now))
      }
      return 0
    }
  }

  // MARK: inspect

  static let inspect = CommandSpec(
    path: ["records", "inspect"],
    abstract: "Show the record of one image with every credential and its expiry.",
    discussion: """
      IMAGE is normalized as the provider records it (nginx → docker.io/library/nginx). For the kubelet's \
      records, which are keyed by image ID, give --image-ref instead. Exit status: 0 the record is shown, \
      1 there is no record, 4 it is unreadable or untrusted, 64 usage (an invalid IMAGE too).
      """,
    options: [.option("image-ref", value: "ref", help: "The record key itself, e.g. a CRI image ID.")] + locationOptions
      + outputOptions(["text", "json", "yaml"]),
    argument: ("image", "The image (Pullwarden's records).")
  )

  static func runInspect(_ options: ParsedOptions) -> Int32 {
    Commands.reporting { () throws(PullwardenError) in
      let store = try recordStore(options)
      let format = try format(options, inspect)
      let key: String
      switch (options.argument, options.value("image-ref")) {
      case (let image?, nil):
        do {
          key = try ImageReference(parsing: image).name
        } catch {
          throw PullwardenError(.config, "invalid image \"\(image)\": \(error)", at: "command line")
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
      if format != "text" {
        Commands.writeStructured(RecordsReport.json(file: RecordStore.fileName(forKey: key), content, directory: store.directory, now: now), format)
      }
      switch content {
      case .found(let record, let expiry):
        if format == "text" { StandardStreams.writeOut(RecordsReport.describe(record, expiry, file: file, now: now)) }
        return 0
      case .absent:
        StandardStreams.writeError("pullwarden: no pull record for \(key) (\(file))\n")
        if options.argument != nil && !store.isPullwardenStore {
          // The kubelet keys its records by image ID: a lookup by name never finds them.
          StandardStreams.writeError(
            "pullwarden: hint: \(store.directory) has no pullwarden-expiry/, so it holds the kubelet's records, which are keyed by image ID: give --image-ref with the image's ID (crictl inspecti -o json IMAGE: status.id)\n")
        }
        return 1
      case .unreadable(let problem):
        throw PullwardenError(.records, "the pull record is unreadable and never trusted: \(problem)", at: file)
      case .mismatched(let other):
        throw PullwardenError(.records, "the file names imageRef \"\(other)\", not \"\(key)\"; it is never trusted", at: file)
      }
    }
  }

  // MARK: gc

  static let gc = CommandSpec(
    path: ["records", "gc"],
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
      Exit status: 0 done, 4 the records could not be read or changed, 64 usage.
      """,
    options: locationOptions + [
      .option("older-than", value: "duration", help: "Retire records not updated or handed out for this long (Go duration, e.g. 720h)."),
      .flag("expired", help: "Retire records whose every credential has expired."),
      .flag("dry-run", help: "Say what would change, change nothing."),
    ] + outputOptions(["text", "json"])
  )

  static func runGC(_ options: ParsedOptions) -> Int32 {
    Commands.reporting { () throws(PullwardenError) in
      let store = try recordStore(options)
      let json = try format(options, gc) == "json"
      let expired = options.flag("expired")
      var age: GoDuration?
      if let olderThan = options.value("older-than") {
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
      let collector = RecordsCollector(olderThan: age, expired: expired, dryRun: options.flag("dry-run"))
      let actions = try collector.run(store, now: .now())
      if json {
        StandardStreams.writeOut(JSON.encode(collector.json(actions)) + [UInt8(ascii: "\n")])
      } else {
        StandardStreams.writeOut(collector.text(actions))
      }
      return 0
    }
  }
}
