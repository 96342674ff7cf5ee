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
let arguments = CommandLine.arguments
if let configPath = ProvideInvocation.configPath(in: arguments) {
  exit(ProvideInvocation.run(configPath: configPath))
}
// `verify` answers on stdout even when its arguments are wrong; it parses only its own command.
if arguments.count > 1 && arguments[1] == "verify" {
  exit(VerifyInvocation.main(arguments: Array(arguments.dropFirst(2))))
}
exit(Commands.main(Array(arguments.dropFirst())))
