import { DictInputError } from "../transfer/inputs/dict-input-error.js";
import { InputFileError } from "../transfer/inputs/input-file-error.js";

/** What to do about an input gb-client cannot use, told apart by the error's fields. */
export function inputHint(error: unknown): string | undefined {
  if (!(error instanceof InputFileError)) return undefined;
  if (error.kind === "dict") {
    return error.reason === "not-a-file"
      ? "--dict takes a file holding one JSON object; send the files of a directory with --file"
      : undefined;
  }
  switch (error.reason) {
    case "missing":
    case "unreadable":
      return "check the path given to --file";
    case "not-a-file":
      return "--file sends regular files and directories (a device or FIFO: read it through --file -)";
    case "tree-too-large":
      return "send the directory's subdirectories one by one, or archive it: tar c DIR | gb-client --file -";
  }
}

/** What to do about a --dict input that is not JSON at all. */
export function dictInputHint(error: unknown): string | undefined {
  return error instanceof DictInputError
    ? "--dict expects a file holding one JSON object, such as samples/data.json"
    : undefined;
}
