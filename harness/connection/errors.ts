/**
 * What a failed connect or query tells the layers above: it ran out of time (`DeadlineError`, and
 * whether the request may have reached the server), the server refused it with a SQLSTATE
 * (`isServerError`), or the connection itself failed. Probes turn that into an outcome; targets and
 * probes both use `describeError` for the text they record or report.
 */
import pg from "pg";

export class DeadlineError extends Error {
  override readonly name = "DeadlineError";
  /** Whether the request may have reached the server (a timed-out write may have committed). */
  readonly afterSend: boolean;
  constructor(what: string, ms: number, afterSend: boolean) {
    super(`${what} timed out after ${ms} ms`);
    this.afterSend = afterSend;
  }
}

/** An error the server reported with a SQLSTATE: the statement reached it and was refused. */
export function isServerError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError || (typeof error === "object" && error !== null && "severity" in error && "code" in error);
}

/** Short, secret-free error text for the history: SQLSTATE and message, or the error's message. */
export function describeError(error: unknown): string {
  if (isServerError(error)) return `${error.code ?? "?????"} ${error.message}`;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}

/** What a probe records of a failed operation: the text, the SQLSTATE when the server sent one, and whether it hung past its deadline. */
export function errorFields(error: unknown): { error: string; sqlstate?: string; timedOut?: true } {
  const fields: { error: string; sqlstate?: string; timedOut?: true } = { error: describeError(error) };
  if (isServerError(error) && typeof error.code === "string") fields.sqlstate = error.code;
  if (error instanceof DeadlineError) fields.timedOut = true;
  return fields;
}
