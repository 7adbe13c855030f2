/** The environment variable holding a passphrase. Never a command-line argument: argv is visible to every user. */
export const PASSPHRASE_ENV = "GB_PASSPHRASE";
