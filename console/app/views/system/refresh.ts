/** How often the System page reads the gateway again. */
export const REFRESH_MS = 5000;
