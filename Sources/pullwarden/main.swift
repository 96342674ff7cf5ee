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
// `verify` answers on stdout even when its arguments are wrong, which ArgumentParser's own error
// handling would not do; it parses only its own command.
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "verify" {
  exit(VerifyInvocation.main(arguments: Array(CommandLine.arguments.dropFirst(2))))
}
Pullwarden.main()
