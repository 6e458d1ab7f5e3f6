/** Every error answer has the shape {error, message, field?}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): { error: string; message: string; field?: string } {
    return { error: this.error, message: this.message, ...(this.field ? { field: this.field } : {}) };
  }
}
