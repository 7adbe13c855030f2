import { ErrorCode, GbError, InputError } from "../../errors.js";

/**
 * What an item's source failing mid-item fails it with: the source's own GbError, or an
 * InputError INPUT_UNREADABLE naming the item.
 */
export function inputFailure(name: string, error: unknown): GbError {
  if (error instanceof GbError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new InputError(ErrorCode.INPUT_UNREADABLE, `cannot read ${name}: ${detail}`, {
    cause: error,
  });
}
