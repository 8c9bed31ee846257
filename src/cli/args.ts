/** The command line of `corral`, parsed into a command; errors name the bad argument. */
import { FOUR_LETTER_WORDS } from "../driver/four_letter_words.ts";
import { closestName } from "./closest_name.ts";

export const HELP = `corral: a ZooKeeper-compatible coordination service

Usage:
  corral serve <zoo.cfg> [options]   serve as described by a ZooKeeper zoo.cfg
  corral serve --port <n> [options]  serve standalone without a config file
  corral --help | --version

Options for serve (they override zoo.cfg):
  --port <n>              client port (0 picks a free one and prints it)
  --host <address>        interface to listen on (default: clientPortAddress, else 0.0.0.0)
  --4lw <words>           four-letter words to allow, comma-separated, '*' for all (default: srvr)
  --tick-time <ms>        tickTime (default 2000)
  --max-client-cnxns <n>  connections per client IP, 0 = unlimited (default 60)
  --log-level <level>     debug, info, warn or error (default info)
  --data-dir <dir>        keep the transaction log and snapshots here (zoo.cfg dataDir);
                          without one, data lives in memory and is lost on exit
  --jaas-config <path>    SASL DIGEST-MD5 users for clients: a JAAS file with a Server section
                          (Server { org.apache.zookeeper.server.auth.DigestLoginModule required
                          user_bob="secret"; };), as java.security.auth.login.config in zoo.cfg
  --truncate-corrupt-log  if the log is damaged (a record whose checksum fails, even the last
                          one, or a missing segment), cut it there and start (losing every txn
                          from that point; the warning lists them) instead of refusing to start

Limits (Corral's own; ZooKeeper has no equivalent keys):
  --output-bytes-max-per-connection <n>  unsent output at which a client stops being read
                                         (default 4194304)
  --output-buffer-bytes-max <n>          unsent output at which a client is closed (default 33554432)
  --output-bytes-max-total <n>           unsent output of all clients, shared fairly (default 134217728)
  --auth-identities-max <n>              distinct auth identities per connection (default 100)

An ensemble: a zoo.cfg with two or more server.N=host:quorumPort:electionPort[:observer] lines
(the same file on every member), initLimit and syncLimit (ticks), and dataDir/myid holding this
member's N. Members talk to each other on the quorum port only (election and Zab share it; the
election port is not used); a server.N line ending in :observer is an observer.

Corral prints "corral: serving on <host>:<port> (<runtime>, standalone)" (or "..., member N of an
ensemble of M, quorum port P)") once it listens, and shuts down cleanly on SIGINT or SIGTERM.
`;

export type LogLevelName = "debug" | "info" | "warn" | "error";

export interface ServeArgs {
  configPath: string | null;
  port: number | null;
  host: string | null;
  fourLetterWhitelist: Set<string> | null;
  tickTimeMs: number | null;
  maxClientCnxns: number | null;
  logLevel: LogLevelName;
  dataDir: string | null;
  truncateCorruptLog: boolean;
  outputBytesMaxPerConnection: number | null;
  outputBufferBytesMax: number | null;
  outputBytesMaxTotal: number | null;
  authIdentitiesMax: number | null;
  /** `--jaas-config`: the JAAS file with SASL users (java.security.auth.login.config); wins over zoo.cfg. */
  jaasConfigPath: string | null;
}

export type Command =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "serve"; args: ServeArgs };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function parseArgs(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") return { kind: "help" };
  if (first === "--version" || first === "-v" || first === "version") return { kind: "version" };
  if (first === "serve") return { kind: "serve", args: parseServeArgs(rest) };
  throw new UsageError(`unknown command ${JSON.stringify(first)}; try \`corral --help\``);
}

function parseServeArgs(argv: readonly string[]): ServeArgs {
  const args: ServeArgs = {
    configPath: null, port: null, host: null, fourLetterWhitelist: null, tickTimeMs: null, maxClientCnxns: null, logLevel: "info",
    dataDir: null, truncateCorruptLog: false,
    outputBytesMaxPerConnection: null, outputBufferBytesMax: null, outputBytesMaxTotal: null, authIdentitiesMax: null,
    jaasConfigPath: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, null];
    const value = (): string => {
      if (inline !== null) return inline;
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case "--port":
        args.port = integerArg(flag, value(), 0, 65535);
        break;
      case "--host":
        args.host = value();
        break;
      case "--4lw":
        args.fourLetterWhitelist = fourLetterWords(value());
        break;
      case "--tick-time":
        args.tickTimeMs = integerArg(flag, value(), 1, 3_600_000);
        break;
      case "--max-client-cnxns":
        args.maxClientCnxns = integerArg(flag, value(), 0, 1_000_000);
        break;
      case "--data-dir":
        args.dataDir = value();
        break;
      case "--truncate-corrupt-log":
        if (inline !== null) throw new UsageError(`${flag} takes no value`);
        args.truncateCorruptLog = true;
        break;
      case "--output-bytes-max-per-connection":
        args.outputBytesMaxPerConnection = integerArg(flag, value(), 1, Number.MAX_SAFE_INTEGER);
        break;
      case "--output-buffer-bytes-max":
        args.outputBufferBytesMax = integerArg(flag, value(), 1, Number.MAX_SAFE_INTEGER);
        break;
      case "--output-bytes-max-total":
        args.outputBytesMaxTotal = integerArg(flag, value(), 1, Number.MAX_SAFE_INTEGER);
        break;
      case "--jaas-config":
        args.jaasConfigPath = value();
        break;
      case "--auth-identities-max":
        args.authIdentitiesMax = integerArg(flag, value(), 1, 1_000_000);
        break;
      case "--log-level": {
        const level = value();
        if (level !== "debug" && level !== "info" && level !== "warn" && level !== "error") {
          throw new UsageError(`--log-level must be debug, info, warn or error, got ${JSON.stringify(level)}`);
        }
        args.logLevel = level;
        break;
      }
      default:
        if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}; try \`corral --help\``);
        if (args.configPath !== null) throw new UsageError(`only one config file, got ${args.configPath} and ${arg}`);
        args.configPath = arg;
    }
  }
  if (args.configPath === null && args.port === null) {
    throw new UsageError("serve needs a zoo.cfg or --port <n>; try `corral --help`");
  }
  return args;
}

/** `--4lw conf,srvr` or `*`: every word must be one ZooKeeper knows (a typo would silently disable it). */
function fourLetterWords(text: string): Set<string> {
  const words = new Set(text.split(",").map((word) => word.trim()).filter((word) => word !== ""));
  for (const word of words) {
    if (word === "*" || (FOUR_LETTER_WORDS as readonly string[]).includes(word)) continue;
    const near = closestName(word, FOUR_LETTER_WORDS);
    throw new UsageError(
      `--4lw: unknown four-letter word ${JSON.stringify(word.slice(0, 40))}${near === null ? "" : ` (did you mean ${near}?)`}; ` +
        `valid words: ${FOUR_LETTER_WORDS.join(", ")}, or * for all`,
    );
  }
  return words;
}

function integerArg(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}
