const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;
const BYTES_PER_KIB = 1024;

/** "512 B", "1.5 KiB", "3.2 GiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= BYTES_PER_KIB && unit < UNITS.length - 1) {
    value /= BYTES_PER_KIB;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit] ?? "B"}`;
}
