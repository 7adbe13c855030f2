/** This release's version; a test keeps it equal to package.json's. */
export const SOFTWARE_VERSION = "2.0.0";

/** How this software names itself in HELLO. */
export const SOFTWARE_NAME = `gb-transfer/${SOFTWARE_VERSION}`;
