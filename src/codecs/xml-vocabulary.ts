/**
 * The names of the `xml` format's vocabulary ([C-XML]), shared by its encoder and decoder.
 */

/** The namespace of every element of the format. */
export const DICT_XML_NAMESPACE = "urn:gb-transfer:dict:1";

export const ROOT_ELEMENT = "dict";
export const KEY_ATTRIBUTE = "key";
export const KEY_JSON_ATTRIBUTE = "key-json";
export const ENCODING_ATTRIBUTE = "encoding";
/** The one value of {@link ENCODING_ATTRIBUTE}: the text is a JSON string literal. */
export const JSON_ENCODING = "json";

export type ScalarElement = "string" | "number" | "boolean" | "null";
export type ContainerElement = "object" | "array";

export function isContainerElement(name: string): name is ContainerElement {
  return name === "object" || name === "array";
}

export function isScalarElement(name: string): name is ScalarElement {
  return name === "string" || name === "number" || name === "boolean" || name === "null";
}
