/**
 * The slice of Deno's network API that deno.ts uses, declared here so that this code type-checks
 * under Node and Bun (where no global Deno types exist) and documents exactly what we depend on.
 */

export interface DenoNetAddr {
  hostname: string;
  port: number;
}

export interface DenoTcpConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay(noDelay?: boolean): void;
  readonly remoteAddr: DenoNetAddr;
}

export interface DenoTcpListener {
  accept(): Promise<DenoTcpConn>;
  close(): void;
  readonly addr: DenoNetAddr;
}

export interface DenoNetApi {
  listen(options: { hostname: string; port: number; transport: "tcp" }): DenoTcpListener;
  connect(options: { hostname: string; port: number; transport: "tcp"; signal?: AbortSignal }): Promise<DenoTcpConn>;
}

/** The global Deno namespace; throws when not running under Deno. */
export function denoNetApi(): DenoNetApi {
  const deno = (globalThis as { Deno?: DenoNetApi }).Deno;
  if (deno === undefined) throw new Error("the deno transport needs the Deno runtime; use defaultTransport()");
  return deno;
}
