/**
 * Apache ZooKeeper's own Java CLI (ZooKeeperMain) as a judge: one command per JVM, its answers kept
 * and its log lines and connection chatter dropped, so two servers' transcripts compare line by line.
 * Used by enforce_auth_test.ts (SASL) and tls_java_cli_test.ts (TLS).
 */
import { execFile } from "node:child_process";
import { findOnPath } from "../../support/compat_availability.ts";
import { zooKeeperClasspath } from "../../support/real_zookeeper.ts";

const CLI_TIMEOUT_MS = 60_000;
const SMALL_JVM = ["-Xms16m", "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"];

/** Runs `ZooKeeperMain -server connectString command…` with extra JVM flags; resolves with its answers. */
export function javaCli(connectString: string, command: readonly string[], jvmFlags: readonly string[] = []): Promise<string[]> {
  const args = [
    ...SMALL_JVM, "-Dlog4j.configuration=file:/dev/null", ...jvmFlags,
    "-cp", zooKeeperClasspath(), "org.apache.zookeeper.ZooKeeperMain", "-server", connectString, ...command,
  ];
  return new Promise((resolve, reject) => {
    execFile(findOnPath("java") ?? "java", args, { timeout: CLI_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error !== null && error.killed) {
        reject(new Error(`ZooKeeperMain ${command.join(" ")} timed out:\n${stdout}\n${stderr}`));
        return;
      }
      resolve(transcript(`${stdout}\n${stderr}`));
    });
  });
}

/** The CLI's answers: log4j's warnings, connection chatter and blank lines dropped. */
function transcript(output: string): string[] {
  return output.split("\n").map((line) => line.trim()).filter((line) =>
    line !== "" && !line.startsWith("log4j:") && !/^(Connecting to|WATCHER::|WatchedEvent|JLine)/.test(line)
  );
}
