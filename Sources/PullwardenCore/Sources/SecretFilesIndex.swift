/// What a `secretFiles` directory held when it was last read: for each Secret file, its identity and
/// the registry keys of the credentials in it. Never the credentials themselves.
///
/// With it, a provide call stats every file but parses only the files whose registries concern the
/// requested image, or that changed since they were indexed (parsing 200 Secrets costs ~20 ms; a stat
/// costs about a microsecond). It lives in `<recordsDir>/pullwarden-index/`, 0600 in a 0700 directory,
/// and is replaced atomically; losing it only costs one full read.
struct SecretFilesIndex: Equatable, Sendable {
  static let kind = "SecretFilesIndex"
  static let apiVersion = "pullwarden.dev/v1alpha1"
  static let sizeLimit = 16 << 20

  struct Entry: Equatable, Sendable {
    /// File name inside the directory.
    var name: String
    var identity: FileIO.FileIdentity
    /// Normalized registry keys of every credential in the file's docker Secrets.
    var registries: [String]
  }

  /// The Secret directory this index describes.
  var directory: String
  /// In directory-listing order.
  var entries: [Entry]

  /// The index file for `directory` under `stateDirectory`.
  static func path(for directory: String, in stateDirectory: String) -> String {
    let digest = Hex.lowercase(SHA256.hash(Array(directory.utf8)).prefix(16))
    return stateDirectory + "/pullwarden-index/secret-files-" + digest
  }

  /// The first line of every index file; a change of format changes it, and an old file is rebuilt.
  static let header = "pullwarden secret-files index v1"

  // The format is lines of tab-separated fields, parsed byte by byte: it is read on every provide
  // call, and JSON through jansson cost ten times as much for 200 files.
  //
  //   pullwarden secret-files index v1
  //   directory<TAB><directory>
  //   <name><TAB><device><TAB><inode><TAB><size><TAB><mtime ns><TAB><ctime ns>[<TAB><registry key>]...
  //
  // File names with a tab, newline or other control character are never indexed (they are parsed on
  // every call); registry keys never hold one.

  /// The index at `path` if it exists, decodes, and describes `directory`; nil otherwise (it is then
  /// rebuilt).
  static func load(from path: String, directory: String) -> SecretFilesIndex? {
    // An index someone else could have written is ignored (and rebuilt): it decides which files are read.
    guard let bytes = try? FileIO.readFile(path, limit: sizeLimit, followLinks: false, trusted: true) else { return nil }
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)[...]
    guard lines.last?.isEmpty == true else { return nil }  // a truncated file lacks the final newline
    lines.removeLast()
    guard let first = lines.popFirst(), first.elementsEqual(header.utf8),
      let second = lines.popFirst(), second.elementsEqual(("directory\t" + directory).utf8)
    else { return nil }
    var entries: [Entry] = []
    entries.reserveCapacity(lines.count)
    for line in lines {
      let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
      guard fields.count >= 6, !fields[0].isEmpty,
        let device = integer(fields[1]), let inode = integer(fields[2]), let size = integer(fields[3]),
        let modified = integer(fields[4]), let changed = integer(fields[5])
      else { return nil }
      let identity = FileIO.FileIdentity(
        device: UInt64(bitPattern: device), inode: UInt64(bitPattern: inode), size: size,
        modifiedNanoseconds: modified, changedNanoseconds: changed)
      entries.append(
        Entry(
          name: String(decoding: fields[0], as: UTF8.self), identity: identity,
          registries: fields[6...].map { String(decoding: $0, as: UTF8.self) }))
    }
    return SecretFilesIndex(directory: directory, entries: entries)
  }

  /// Whether `name` can be written on an index line.
  static func isIndexable(_ name: String) -> Bool {
    !name.utf8.contains { $0 < 0x20 || $0 == 0x7F }
  }

  /// Writes the index atomically (without fsync: it is a cache), keeping the temporary folder in
  /// Pullwarden's own directory for the next rebuild.
  func save(to path: String) throws(SystemError) {
    try FileIO.makeDirectories(FileIO.directoryName(path))
    var text = Self.header + "\ndirectory\t" + directory + "\n"
    for entry in entries where Self.isIndexable(entry.name) {
      let identity = entry.identity
      let fields = [
        entry.name, String(Int64(bitPattern: identity.device)), String(Int64(bitPattern: identity.inode)),
        String(identity.size), String(identity.modifiedNanoseconds), String(identity.changedNanoseconds),
      ] + entry.registries
      text += fields.joined(separator: "\t") + "\n"
    }
    try FileIO.replaceFile(path, with: Array(text.utf8), durable: false, keepingTemporaryFolder: true)
  }

  private static func integer(_ bytes: ArraySlice<UInt8>) -> Int64? {
    var digits = bytes
    let negative = digits.first == UInt8(ascii: "-")
    if negative { digits = digits.dropFirst() }
    guard !digits.isEmpty, digits.count <= 19 else { return nil }
    var value: Int64 = 0
    for byte in digits {
      guard byte >= 0x30 && byte <= 0x39 else { return nil }
      value = value &* 10 &+ Int64(byte - 0x30)
    }
    return negative ? -value : value
  }
}
