/// Bounds on input tenants write: Secrets (files or API objects), their docker configs and registry
/// keys. Each is far above real use, so only a mistake or an attack meets one, and each error or
/// warning names the limit it hit. The README's "Limits" table lists them.
///
/// Byte sizes of whole inputs live with their readers: Secret files 8 MiB
/// (`SecretFilesSource.fileSizeLimit`), docker config files 1 MiB (`DockerConfigSource.sizeLimit`),
/// API and token responses 1 MiB (`HTTPSettings.defaultMaxResponseSize`), response headers 64 KiB.
public enum TenantLimits {
  /// Secret files read from one `secretFiles` directory (in name order); more are skipped with a
  /// warning, and the answer is cached only briefly.
  public static let secretFilesPerDirectory = 10_000
  /// Registry entries in one docker config (a `.dockerconfigjson`, `.dockercfg` or config.json).
  public static let entriesPerDockerConfig = 1_000
  /// Bytes of one registry key (a host is at most 253; the rest allows a long repository path).
  public static let registryKeyLength = 1_024
  /// Bytes of one `username`, `password`, `email` or `auth` value (registry tokens run to a few KiB).
  public static let credentialValueLength = 64 << 10
  /// Secrets read for one service account (`kubernetesSecrets`: imagePullSecrets, the annotation
  /// and secretNames together); the first ones are read, the rest skipped with a warning.
  public static let secretsPerServiceAccount = 256
}
