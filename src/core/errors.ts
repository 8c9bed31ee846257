/** ZooKeeper's error codes (KeeperException.Code), as sent in ReplyHeader.err. */
export const Code = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;

export type CodeName = keyof typeof Code;

const namesByCode = new Map<number, CodeName>(
  (Object.entries(Code) as [CodeName, number][]).map(([name, code]) => [code, name]),
);

/** The name of an error code, e.g. -101 → "NONODE"; "UNKNOWN(-7777)" for codes ZooKeeper does not define. */
export function codeName(code: number): string {
  return namesByCode.get(code) ?? `UNKNOWN(${code})`;
}

/** True when `code` is one ZooKeeper defines (clients reject the others). */
export function isKnownCode(code: number): boolean {
  return namesByCode.has(code);
}

/**
 * A failed operation inside the core: carries the ZooKeeper code that the reply will hold.
 * Thrown only within prep/apply helpers and caught at their boundary; never escapes the core.
 */
export class KeeperCodeError extends Error {
  readonly code: number;
  constructor(code: number, detail?: string) {
    super(detail ? `${codeName(code)}: ${detail}` : codeName(code));
    this.name = "KeeperCodeError";
    this.code = code;
  }
}
