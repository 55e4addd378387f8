import { ERROR_CODES, type TErrorCode } from "@magma/protocol";

/**
 * The instance's one error type. Services throw it with a catalog code; the HTTP
 * error handler turns it into `{code, message}` with the code's status.
 */
export class AppError extends Error {
  readonly code: TErrorCode;
  readonly statusCode: number;

  /**
   * @param code catalog code (protocol ERROR_CODES)
   * @param message text naming the field and value, e.g. `Device type "qemu-x" not found`;
   *   defaults to the catalog message
   * @param statusCode overrides the catalog status (rarely needed)
   */
  constructor(code: TErrorCode, message?: string, statusCode?: number) {
    super(message ?? ERROR_CODES[code].message);
    this.name = "AppError";
    this.code = code;
    this.statusCode = statusCode ?? ERROR_CODES[code].status;
  }
}
