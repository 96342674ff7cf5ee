#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PullwardenCore

// The kubelet runs `pullwarden provide --config FILE` on every pull its cache misses, and pod starts
// may run `pullwarden verify`: both are dispatched before anything else is looked at. Every command's
// options are described once (Commands, CommandLineParser); the parser is a loop over the words, with
// no reflection and no Foundation, so no path pays for the others.
if let configPath = ProvideInvocation.configPath(in: CommandLine.arguments) {
  exit(ProvideInvocation.run(configPath: configPath))
}
// `verify` answers on stdout even when its arguments are wrong; it parses only its own command.
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "verify" {
  exit(VerifyInvocation.main(arguments: Array(CommandLine.arguments.dropFirst(2))))
}
exit(Commands.main(Array(CommandLine.arguments.dropFirst())))
