#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import PullwardenCore

// The kubelet runs `pullwarden provide --config FILE` on every pull its cache misses. Building
// ArgumentParser's command tree costs about as much as answering the request (runtime type lookups
// over the whole binary), so exactly that invocation is answered directly; anything else, including
// `-c`, `--help` and every other command, goes through ArgumentParser.
if let configPath = ProvideInvocation.configPath(in: CommandLine.arguments) {
  exit(ProvideInvocation.run(configPath: configPath))
}
Pullwarden.main()
