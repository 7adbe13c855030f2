/** The sample inputs shipped in samples/ (the ones the README's examples use). */
import path from "node:path";
import { fileURLToPath } from "node:url";

export const SAMPLES = path.resolve(fileURLToPath(new URL("../../samples", import.meta.url)));
export const SAMPLE_DICT = path.join(SAMPLES, "data.json");
export const SAMPLE_TEXT = path.join(SAMPLES, "notes.txt");
export const SAMPLE_IMAGE = path.join(SAMPLES, "image.png");
