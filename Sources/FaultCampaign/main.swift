// nk-fault-campaign: boots a kernel, keeps clients calling clock, name, bench and faulty
// from threads and processes, and injects faults for a while: SIGKILLs, stops and
// continues, crashes from inside, crash loops past the restart budget, overload bursts,
// operator stops/starts/restarts, and killed clients. Then it checks what must hold:
// no hung call, no kernel death, no service lost for good, the name registry whole
// after every name restart, the kernel's descriptors and threads back at baseline, and
// no process left once the kernel is killed. Exit status 0 only if all of it held.
//
//   nk-fault-campaign --seconds 60 [--json PATH] [--seed N]
//   (scripts/fault-campaign --minutes N wraps it.)
//   nk-fault-campaign --client SOCKET SECONDS THREADS   (a client process; internal)
import Foundation
import Glibc

setvbuf(stdout, nil, _IOLBF, 0)
signal(SIGPIPE, SIG_IGN)
let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.first == "--client", arguments.count >= 4,
   let seconds = Double(arguments[2]), let threads = Int(arguments[3]) {
    ClientProcess.run(socketPath: arguments[1], seconds: seconds, threads: threads)
}

var options = CampaignOptions()
var index = 0
while index < arguments.count {
    let argument = arguments[index]
    let value = index + 1 < arguments.count ? arguments[index + 1] : nil
    switch argument {
    case "--seconds": options.seconds = value.flatMap(Double.init) ?? -1; index += 1
    case "--minutes": options.seconds = value.flatMap(Double.init).map { $0 * 60 } ?? -1; index += 1
    case "--json": options.jsonPath = value; index += 1
    case "--seed": options.seed = value.flatMap(UInt64.init) ?? 0; index += 1
    case "--measured-deaths": options.measuredDeaths = value.flatMap(Int.init) ?? -1; index += 1
    case "--help", "-h":
        print("usage: nk-fault-campaign (--seconds N | --minutes N) [--json PATH] [--seed N] [--measured-deaths N]")
        exit(0)
    default:
        FileHandle.standardError.write(Data("nk-fault-campaign: unknown argument '\(argument)'\n".utf8))
        exit(2)
    }
    index += 1
}
guard options.seconds > 0, options.measuredDeaths >= 0 else {
    FileHandle.standardError.write(Data("nk-fault-campaign: --seconds/--minutes must be positive, --measured-deaths not negative\n".utf8))
    exit(2)
}
exit(Campaign(options).run() ? 0 : 1)
