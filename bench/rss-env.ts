/** The environment variable naming the file the RSS probe writes its figure to. */
export const RSS_FILE_ENV = "GB_BENCH_RSS_FILE";
