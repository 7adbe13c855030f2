const MS_PER_SECOND = 1000;
const SECONDS_PER_MINUTE = 60;

/** "850 ms", "4.2 s", "12 s", "3 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < MS_PER_SECOND) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / MS_PER_SECOND;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < SECONDS_PER_MINUTE) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / SECONDS_PER_MINUTE)} min ${whole % SECONDS_PER_MINUTE} s`;
}
