/**
 * A JAAS login configuration file, the way ZooKeeper operators write one for SASL:
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *       user_bob="bobsecret"
 *       user_alice="alicesecret";
 *   };
 *
 * Sections (`Name { entries };`), each entry `module.Class flag name=value ...;`, values quoted
 * ("..." with backslash escapes) or bare, `//` and `/* *\/` comments. ZooKeeper's server reads the
 * DIGEST-MD5 users from every `user_<name>` option of the section named by `zookeeper.sasl.serverconfig`
 * (default "Server"), whatever the module. Anything malformed is an error naming the file and line.
 */
import type { SaslConfig } from "../../core/sasl_exchange.ts";

/** A JAAS file larger than this is refused: it is a handful of lines, never megabytes. */
export const JAAS_FILE_BYTES_MAX = 1024 * 1024;
/** ZooKeeper's default login context for the server (ZooKeeperSaslServer.DEFAULT_LOGIN_CONTEXT_NAME). */
export const DEFAULT_SERVER_SECTION = "Server";

const FLAGS = new Set(["required", "requisite", "sufficient", "optional"]);

export interface JaasEntry {
  module: string;
  flag: string;
  options: Map<string, string>;
  line: number;
}

export type JaasConfig = Map<string, JaasEntry[]>;

export class JaasConfigError extends Error {
  readonly source: string;
  readonly line: number;
  constructor(source: string, line: number, message: string) {
    super(`${source} line ${line}: ${message}`);
    this.name = "JaasConfigError";
    this.source = source;
    this.line = line;
  }
}

interface Token {
  kind: "word" | "string" | "symbol";
  text: string;
  line: number;
}

/** Splits the text into words, quoted strings and the symbols { } ; =. */
function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const start = line;
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new JaasConfigError(source, start, "a /* comment is never closed");
      for (let j = i; j < end; j++) if (text[j] === "\n") line++;
      i = end + 2;
    } else if (c === '"') {
      const start = line;
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new JaasConfigError(source, start, "a quoted value is never closed (missing \")");
        const d = text[i++]!;
        if (d === '"') break;
        if (d === "\n") line++;
        if (d === "\\" && i < text.length) value += text[i++];
        else value += d;
      }
      tokens.push({ kind: "string", text: value, line: start });
    } else if ("{};=".includes(c)) {
      tokens.push({ kind: "symbol", text: c, line });
      i++;
    } else {
      const start = i;
      while (i < text.length && !/\s/.test(text[i]!) && !'{};="'.includes(text[i]!) && !text.startsWith("//", i) && !text.startsWith("/*", i)) i++;
      tokens.push({ kind: "word", text: text.slice(start, i), line });
    }
  }
  return tokens;
}

/** Parses a JAAS file's text; `source` names the file in errors. */
export function parseJaasConfig(text: string, source = "JAAS config"): JaasConfig {
  if (text.length > JAAS_FILE_BYTES_MAX) throw new JaasConfigError(source, 1, `file larger than ${JAAS_FILE_BYTES_MAX} bytes`);
  const tokens = tokenize(text, source);
  const config: JaasConfig = new Map();
  let i = 0;
  const lastLine = tokens.length === 0 ? 1 : tokens[tokens.length - 1]!.line;
  const next = (what: string): Token => {
    const token = tokens[i++];
    if (token === undefined) throw new JaasConfigError(source, lastLine, `the file ends where ${what} was expected`);
    return token;
  };
  const expect = (symbol: string, what: string): void => {
    const token = next(`"${symbol}"`);
    if (token.kind !== "symbol" || token.text !== symbol) {
      throw new JaasConfigError(source, token.line, `expected "${symbol}" ${what}, found ${JSON.stringify(token.text)}`);
    }
  };
  while (i < tokens.length) {
    const name = next("a section name");
    if (name.kind !== "word") throw new JaasConfigError(source, name.line, `expected a section name such as Server, found ${JSON.stringify(name.text)}`);
    if (config.has(name.text)) throw new JaasConfigError(source, name.line, `section ${name.text} appears twice`);
    expect("{", `after section name ${name.text}`);
    const entries: JaasEntry[] = [];
    for (;;) {
      const module = next(`a login module or "}" in section ${name.text}`);
      if (module.kind === "symbol" && module.text === "}") break;
      if (module.kind !== "word") throw new JaasConfigError(source, module.line, `expected a login module class name, found ${JSON.stringify(module.text)}`);
      const flag = next("a control flag");
      if (flag.kind !== "word" || !FLAGS.has(flag.text.toLowerCase())) {
        throw new JaasConfigError(source, flag.line, `expected a control flag (required, requisite, sufficient or optional) after ${module.text}, found ${JSON.stringify(flag.text)}`);
      }
      const options = new Map<string, string>();
      for (;;) {
        const key = next(`an option or ";" after ${module.text}`);
        if (key.kind === "symbol" && key.text === ";") break;
        if (key.kind !== "word") throw new JaasConfigError(source, key.line, `expected an option name or ";", found ${JSON.stringify(key.text)} (is a ";" missing?)`);
        expect("=", `after option ${key.text}`);
        const value = next(`the value of ${key.text}`);
        if (value.kind === "symbol") throw new JaasConfigError(source, value.line, `option ${key.text} has no value`);
        if (options.has(key.text)) throw new JaasConfigError(source, key.line, `option ${key.text} appears twice`);
        options.set(key.text, value.text);
      }
      entries.push({ module: module.text, flag: flag.text.toLowerCase(), options, line: module.line });
    }
    expect(";", `after the closing "}" of section ${name.text}`);
    config.set(name.text, entries);
  }
  return config;
}

/**
 * The SASL users of `section` (every `user_<name>` option, as ZooKeeper's SaslServerCallbackHandler
 * reads them). Throws when the section is missing: ZooKeeper refuses to start then too.
 */
export function saslUsersOf(config: JaasConfig, source: string, section = DEFAULT_SERVER_SECTION): Map<string, string> {
  const entries = config.get(section);
  if (entries === undefined) {
    const found = [...config.keys()];
    throw new JaasConfigError(source, 1, `no '${section}' section (found: ${found.length === 0 ? "none" : found.join(", ")}); add ${section} { org.apache.zookeeper.server.auth.DigestLoginModule required user_<name>="<password>"; };`);
  }
  const users = new Map<string, string>();
  for (const entry of entries) {
    for (const [key, value] of entry.options) if (key.startsWith("user_")) users.set(key.slice("user_".length), value);
  }
  return users;
}

/** What `corral serve` and embedders build SASL from: a JAAS file's text plus ZooKeeper's SASL keys. */
export function saslConfigFromJaas(
  text: string,
  source: string,
  options: { section?: string; superUser?: string | null; superPassword?: string | null } = {},
): SaslConfig {
  const users = saslUsersOf(parseJaasConfig(text, source), source, options.section ?? DEFAULT_SERVER_SECTION);
  return { users, superUser: options.superUser ?? null, superPassword: options.superPassword ?? null };
}

/**
 * The DIGEST-MD5 username and password of `section` (a client's login context: ZooKeeper's
 * QuorumLearner, or Client), from its `username` and `password` options. Throws when the section
 * is missing, lacks either option, or uses Kerberos, which corral does not speak.
 */
export function saslCredentialsOf(config: JaasConfig, source: string, section: string): { username: string; password: string } {
  const entries = config.get(section);
  if (entries === undefined) {
    const found = [...config.keys()];
    throw new JaasConfigError(source, 1, `no '${section}' section (found: ${found.length === 0 ? "none" : found.join(", ")}); add ${section} { org.apache.zookeeper.server.auth.DigestLoginModule required username="<name>" password="<password>"; };`);
  }
  for (const entry of entries) {
    if (/Krb5LoginModule$/.test(entry.module)) {
      throw new JaasConfigError(source, entry.line, `section ${section} uses ${entry.module}: Kerberos (GSSAPI) is not supported, only DIGEST-MD5 (org.apache.zookeeper.server.auth.DigestLoginModule with username and password)`);
    }
    const username = entry.options.get("username");
    const password = entry.options.get("password");
    if (username !== undefined && password !== undefined) return { username, password };
  }
  throw new JaasConfigError(source, entries[0]?.line ?? 1, `section ${section} has no entry with both username and password options`);
}
