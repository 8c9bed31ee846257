/** A problem with the data on disk that an operator must look at; names the file and offset. */
export class StorageError extends Error {
  file?: string;
  offset?: number;

  constructor(message: string, options: { file?: string; offset?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StorageError";
    if (options.file !== undefined) this.file = options.file;
    if (options.offset !== undefined) this.offset = options.offset;
  }
}
